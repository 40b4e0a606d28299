internal import Crypto

/// One-shot SHA-256.
public enum SHA256Digest {
    /// The 32-byte SHA-256 of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// Calls `body` with the 32-byte SHA-256 of `bytes`, without putting it in an array.
    public static func withHash<T>(of bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return hasher.finalize().withUnsafeBytes(body)
    }
}

/// Streaming SHA-256 (for files written in pieces).
public struct SHA256Stream: Sendable {
    private var hasher = SHA256()

    /// Starts an empty digest.
    public init() {}

    /// Adds `bytes`.
    public mutating func update(_ bytes: [UInt8]) { self.hasher.update(data: bytes) }

    /// Adds `bytes` without copying them.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { self.hasher.update(bufferPointer: bytes) }

    /// The digest as 64 lowercase hex digits.
    public func hex() -> String {
        self.hasher.finalize().withUnsafeBytes { Self.hex($0) }
    }

    /// Bytes as lowercase hex, two digits each.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = digits.utf8Start[Int(byte >> 4)]
                out[2 * index + 1] = digits.utf8Start[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }
}

/// HMAC-SHA256 (RFC 2104), for signed requests.
public enum HMACSHA256 {
    /// The 32-byte authentication code of `message` under `key`.
    public static func code(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
