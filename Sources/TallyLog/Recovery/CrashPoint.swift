import Foundation
import Synchronization

/// Named places where the reliability tests make the process kill itself with SIGKILL:
/// `TALLY_CRASH_POINT=name` stops there the first time, `name:N` the Nth time.
///
/// Production never sets the variable: unset, ``hit()`` is one comparison against a value
/// read once at first use. The tests exercise every point and check the invariants after
/// each (nothing acknowledged lost, nothing applied twice, chain and indexes verify).
public enum CrashPoint: String, Sendable, CaseIterable {
    /// A batch is written into its write transaction, not committed.
    case beforeCommit = "commit.before"
    /// A batch is durable; nobody has been told.
    case afterCommit = "commit.after"
    /// The index checkpoint has written its stream and id entries, not its checkpoint.
    case midIndexCheckpoint = "index.checkpoint"
    /// A projection has applied a batch into its views transaction, not committed it.
    case midProjectionBatch = "projection.batch"
    /// A full backup has copied the log, not the views or the manifest.
    case midBackup = "backup.copy"
    /// A restore has laid down the log, not the views, and not renamed the target.
    case midRestore = "restore.import"

    /// The environment variable that arms a crash point.
    public static let environmentVariable = "TALLY_CRASH_POINT"

    /// The armed point and how many hits remain before it fires (read once).
    private final class Armed: Sendable {
        let point: CrashPoint
        let countdown: Atomic<Int>

        init(point: CrashPoint, times: Int) {
            self.point = point
            self.countdown = Atomic(max(1, times))
        }
    }

    private static let armed: Armed? = {
        guard let text = ProcessInfo.processInfo.environment[environmentVariable], !text.isEmpty else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard let point = CrashPoint(rawValue: String(parts[0])) else {
            FileHandle.standardError.write(Data("\(environmentVariable)=\(text) names no crash point; known: \(allCases.map(\.rawValue))\n".utf8))
            return nil
        }
        return Armed(point: point, times: parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()

    /// Kills the process here if this point is armed and its count is reached.
    public func hit() {
        guard let armed = Self.armed, armed.point == self else { return }
        guard armed.countdown.subtract(1, ordering: .relaxed).newValue == 0 else { return }
        FileHandle.standardError.write(Data("crash point \(self.rawValue): SIGKILL\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
