internal import Crypto

/// One-shot SHA-256.
public enum SHA256Digest {
    /// The 32-byte SHA-256 of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}
