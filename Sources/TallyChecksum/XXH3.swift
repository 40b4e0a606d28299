internal import CXXHash

/// XXH3-64, the record checksum: fast, and equal to `xxhsum -H3` for the same bytes.
///
/// XXH3 catches accidents (flipped bits, torn or misplaced writes); it is not built to
/// resist an adversary, which is what ``SealChain`` is for.
public enum XXH3 {
    /// The XXH3-64 hash of `bytes` (seed 0).
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        _hash(bytes.baseAddress, bytes.count)
    }

    /// The XXH3-64 hash of `bytes` with `seed` (for hash tables keyed per process).
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        _hash(bytes.baseAddress, bytes.count, seed: seed)
    }

    @usableFromInline
    static func _hash(_ pointer: UnsafeRawPointer?, _ count: Int, seed: UInt64) -> UInt64 {
        XXH3_64bits_withSeed(pointer, count, seed)
    }

    /// The XXH3-64 hash of the bytes of `value`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        let array = Array(bytes)
        return array.withUnsafeBytes { Self.hash($0) }
    }

    @usableFromInline
    static func _hash(_ pointer: UnsafeRawPointer?, _ count: Int) -> UInt64 {
        XXH3_64bits(pointer, count)
    }

    /// Formats a hash as `xxhsum` prints it: 16 lowercase hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Streaming XXH3-64 for data that arrives in pieces (files, exports).
public struct XXH3Stream: ~Copyable {
    // @unchecked-free: the state is owned by this non-copyable value.
    private let state: OpaquePointer

    /// Starts an empty hash.
    public init() {
        guard let state = XXH3_createState() else {
            preconditionFailure("XXH3_createState: out of memory")
        }
        XXH3_64bits_reset(state)
        self.state = state
    }

    deinit {
        XXH3_freeState(self.state)
    }

    /// Adds `bytes` to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        XXH3_64bits_update(self.state, bytes.baseAddress, bytes.count)
    }

    /// The hash of everything added so far.
    public func digest() -> UInt64 {
        XXH3_64bits_digest(self.state)
    }
}
