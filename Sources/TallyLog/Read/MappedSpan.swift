import Foundation

/// The address range of the memory map that a run of reads touched, to give its pages back
/// to the kernel once the reader is done with them.
///
/// `MADV_DONTNEED` on LMDB's read-only shared file mapping only drops this process's page
/// table entries: the pages stay in the page cache and a later read faults them back in
/// with the same bytes. So releasing a range a reader will touch again costs a fault, never
/// correctness.
struct MappedSpan {
    private var low = UInt.max
    private var high: UInt = 0

    /// Widens the span to cover `bytes` (a value pointing into the map).
    mutating func include(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let start = UInt(bitPattern: base)
        self.low = min(self.low, start)
        self.high = max(self.high, start + UInt(bytes.count))
    }

    /// Hands the whole pages of the span back; nothing if it is empty.
    func release() {
        guard self.high > self.low else { return }
        let page = UInt(max(4_096, sysconf(Int32(_SC_PAGESIZE))))
        let start = self.low & ~(page - 1)
        let end = (self.high + page - 1) & ~(page - 1)
        guard let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(address, Int(end - start), MADV_DONTNEED)
    }
}
