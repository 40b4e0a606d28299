import Synchronization

/// A `Mutex` that can be shared by reference between the log and its committer.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    @inline(__always)
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try self.mutex.withLock { try body(&$0) }
    }
}
