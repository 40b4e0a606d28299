import Logging
import ServiceLifecycle
import Tally

/// Takes a snapshot of the views every ``ServerConfiguration/snapshotEveryEvents`` events
/// (checked once a second) and keeps the newest ``ServerConfiguration/snapshotsKeep``, so a
/// replay or restore never starts far behind the head.
struct SnapshotScheduler: Service {
    let api: TallyAPI

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await self.loop() }
    }

    private func loop() async throws {
        let every = self.api.configuration.snapshotEveryEvents
        var last = ViewSnapshot.list(data: self.api.ledger.log.directory).first?.manifest.position ?? 0
        do {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                let checkpoint = (try? self.api.views.checkpoints().min()) ?? 0
                guard checkpoint >= last + every else { continue }
                do {
                    let entry = try self.api.snapshot()
                    last = entry.manifest.position
                    _ = try ViewSnapshot.prune(data: self.api.ledger.log.directory, keep: self.api.configuration.snapshotsKeep)
                    self.api.logger.info("views snapshot taken", metadata: ["tally.snapshot": "\(entry.path)", "tally.position": "\(last)"])
                } catch {
                    self.api.logger.error("views snapshot failed", metadata: ["tally.error": "\(error)"])
                    last = checkpoint
                }
            }
        }
    }
}

extension TallyAPI {
    /// Takes a snapshot of the views this server has open.
    func snapshot() throws -> ViewSnapshot.Entry {
        try ViewSnapshot.create(log: self.ledger.log, views: self.views)
    }
}

extension ViewStore {
    /// Every built-in projection's active checkpoint.
    func checkpoints() throws -> [UInt64] {
        try Ledger.builtInProjections.map { try self.checkpoint(of: $0.name).position }
    }
}
