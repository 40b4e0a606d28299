import Foundation

/// A one-line progress bar on standard error, shown only when it is a terminal and the
/// output is not JSON.
struct ProgressBar {
    let enabled: Bool
    let label: String

    init(label: String, json: Bool) {
        self.label = label
        self.enabled = isatty(STDERR_FILENO) == 1 && !json
    }

    /// Redraws the bar when `done` crosses a whole percent (cheap to call on every step).
    func step(_ done: Int, of total: Int) {
        guard self.enabled, total > 0 else { return }
        let step = max(1, total / 100)
        if done == total || done / step != (done - 1) / step { self.update(UInt64(done), of: UInt64(total)) }
    }

    func update(_ done: UInt64, of total: UInt64) {
        guard self.enabled, total > 0 else { return }
        let width = 30
        let filled = min(width, Int(Double(done) / Double(total) * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(self.label) [\(bar)] \(done)/\(total)".utf8))
    }

    func finish() {
        guard self.enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// Clears the bar's line (for output that follows on standard output).
    func clear() {
        guard self.enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
