import TallyChecksum

/// A stored API key: its public id, name (the `actor` stamped on every event it writes),
/// role and the SHA-256 of its secret. The secret itself is shown once, at creation, and
/// never stored.
public struct APIKey: Sendable, Hashable {
    /// The public part of the key (`tally_<id>_<secret>`): 12 lowercase hex digits.
    public var id: String
    public var name: String
    public var role: Role
    /// SHA-256 of the whole key string, 32 bytes.
    public var secretHash: [UInt8]
    /// Nanoseconds since 1970 when it was created.
    public var createdAt: UInt64
    public var revoked = false

    /// The prefix every key string starts with.
    public static let prefix = "tally_"

    /// A new random key: the stored record and the key string to hand to its user once.
    public static func generate(name: String, role: Role, now: UInt64) -> (key: APIKey, secret: String) {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<6).map { _ in hex(UInt8.random(in: 0...255, using: &generator)) }.joined()
        let secret = (0..<32).map { _ in hex(UInt8.random(in: 0...255, using: &generator)) }.joined()
        let text = "\(Self.prefix)\(id)_\(secret)"
        return (APIKey(id: id, name: name, role: role, secretHash: SHA256Digest.hash(Array(text.utf8)), createdAt: now), text)
    }

    /// The key id inside a key string, or `nil` when it is not shaped like a Tally key.
    public static func id(of text: String) -> String? {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let parts = text.dropFirst(Self.prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 12, parts[1].utf8.count == 64 else { return nil }
        return String(parts[0])
    }

    /// Whether `text` is this key, comparing the hashes in constant time.
    public func matches(_ text: String) -> Bool {
        let presented = SHA256Digest.hash(Array(text.utf8))
        guard presented.count == self.secretHash.count else { return false }
        var difference: UInt8 = 0
        for index in presented.indices { difference |= presented[index] ^ self.secretHash[index] }
        return difference == 0
    }

    /// The hash as lowercase hex.
    public var secretHashHex: String { self.secretHash.map(hex).joined() }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}

/// Bytes from lowercase or uppercase hex, or `nil`.
func bytes(fromHex text: String) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count / 2)
    var index = 0
    while index < utf8.count {
        guard let high = UInt8(String(decoding: utf8[index..<(index + 2)], as: UTF8.self), radix: 16) else { return nil }
        out.append(high)
        index += 2
    }
    return out
}
