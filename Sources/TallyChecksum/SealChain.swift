internal import Crypto

/// The SHA-256 seal chain: one link per commit over the bytes of the records it wrote.
///
/// `seal(n) = SHA-256(seal(n-1) ‖ first position ‖ record bytes…)`, with the position as
/// 8-byte little-endian and `seal(0)` all zeros (each record carries its own position, so
/// the last one is covered too). Changing, dropping or
/// reordering any sealed byte changes every later seal, so a seal head kept elsewhere
/// (a backup manifest, an audit export) makes tampering evident.
public struct SealChain: Sendable {
    /// A 32-byte seal.
    public typealias Seal = [UInt8]

    /// The seal before the first commit: 32 zero bytes.
    public static let genesis: Seal = Array(repeating: 0, count: 32)

    private var hasher: SHA256

    /// Starts a link on top of `previous` whose first record is at position `first`.
    public init(previous: Seal, first: UInt64) {
        precondition(previous.count == 32, "a seal is 32 bytes")
        precondition(first > 0, "positions start at 1")
        self.hasher = SHA256()
        self.hasher.update(data: previous)
        withUnsafeBytes(of: first.littleEndian) { self.hasher.update(bufferPointer: $0) }
    }

    /// Adds one record's bytes, in position order.
    public mutating func add(_ record: UnsafeRawBufferPointer) {
        self.hasher.update(bufferPointer: record)
    }

    /// The finished seal.
    public consuming func finish() -> Seal {
        Array(self.hasher.finalize())
    }

    /// Formats a seal as lowercase hex, as `sha256sum` prints digests.
    public static func hex(_ seal: Seal) -> String {
        seal.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
