import Dispatch
import Foundation
import TallyChecksum

/// Checks records' XXH3-64 checksums on a second thread while the caller works through the
/// same records: a scan that turns every record into text (the audit export) spent a fifth
/// of its critical path in the hash, whose first touch of each record pays its cache misses.
///
/// One batch at a time: ``check(_:)`` hands over the stored bytes of a page of records
/// (pointing into the memory map: the caller keeps its read transaction open until
/// ``wait()`` returns), ``wait()`` returns the index of the first whose checksum does not
/// match. ``stop()`` ends the thread.
final class ChecksumAside: @unchecked Sendable {
    // @unchecked: `records` is written by the caller before `work` is signalled and read by
    // the thread only after waiting on it; `firstBad` the other way round through `done`.
    private let work = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var records: [UnsafeRawBufferPointer] = []
    private var firstBad: Int?
    private var stopping = false
    private var pending = false

    init() {
        Thread { self.run() }.start()
    }

    /// Starts checking `records` (each a whole stored record: its checksum is its last 8 bytes).
    func check(_ records: [UnsafeRawBufferPointer]) {
        precondition(!self.pending, "ChecksumAside: check before the last batch was waited for")
        self.records = records
        self.pending = true
        self.work.signal()
    }

    /// Waits for the batch; the index of the first record whose checksum does not match its
    /// bytes (or that is too short to hold one), `nil` when all match. Nothing to wait for: `nil`.
    func wait() -> Int? {
        guard self.pending else { return nil }
        self.done.wait()
        self.pending = false
        return self.firstBad
    }

    /// Ends the thread (after the batch in progress, which is waited for).
    func stop() {
        _ = self.wait()
        self.stopping = true
        self.work.signal()
    }

    private func run() {
        while true {
            self.work.wait()
            if self.stopping { return }
            self.firstBad = self.records.firstIndex { !Self.matches($0) }
            self.done.signal()
        }
    }

    /// Whether a stored record's last 8 bytes are the XXH3-64 of the bytes before them.
    static func matches(_ record: UnsafeRawBufferPointer) -> Bool {
        guard record.count >= 8 else { return false }
        let stored = record.loadUnaligned(fromByteOffset: record.count - 8, as: UInt64.self)
        return XXH3.hash(UnsafeRawBufferPointer(rebasing: record[0..<(record.count - 8)])) == UInt64(littleEndian: stored)
    }
}
