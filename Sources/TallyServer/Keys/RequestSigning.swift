import Foundation
import NIOConcurrencyHelpers
import TallyChecksum

/// Optional HMAC-SHA256 request signing for agents, on top of (or instead of) bearer keys.
///
/// A signed request carries `X-Tally-Key` (the key id), `X-Tally-Timestamp` (Unix seconds)
/// and `X-Tally-Signature`: hex HMAC-SHA256 with the key's signing secret over
/// `METHOD \n PATH?QUERY \n TIMESTAMP \n hex SHA-256 of the body`. Requests more than
/// ``windowSeconds`` away from the server's clock, and a signature seen before within the
/// window, are refused.
///
/// The signing secret of key `K` is HMAC-SHA256(master, "tally-signing:" + K), hex; the
/// 32-byte master lives in `<data>/signing.secret` (mode 0600, made on first use; it is not
/// in the log, so copy it with your backups). `tally keys create` prints the key's signing secret.
public final class RequestSigning: Sendable {
    /// How far a request's timestamp may be from the server's clock.
    public static let windowSeconds: Int64 = 300
    private let master: [UInt8]
    private let seen = NIOLockedValueBox<[String: Int64]>([:])

    /// The master secret of `dataDirectory`, made on first use.
    public init(dataDirectory: String) throws {
        let path = dataDirectory + "/signing.secret"
        if let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }),
            let bytes = TallyServer.bytes(fromHex: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
        {
            self.master = bytes
            return
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data((Self.hex(bytes) + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.master = bytes
    }

    /// The signing secret of the key with id `keyID` (hex), as `tally keys create` prints it.
    public func secret(forKey keyID: String) -> String {
        Self.hex(Self.mac(key: self.master, Array("tally-signing:\(keyID)".utf8)))
    }

    /// The signature a client sends (hex).
    public static func signature(secret: String, method: String, path: String, timestamp: Int64, body: [UInt8]) -> String {
        let message = "\(method)\n\(path)\n\(timestamp)\n\(Self.hex(SHA256Digest.hash(body)))"
        return Self.hex(Self.mac(key: Array(secret.utf8), Array(message.utf8)))
    }

    /// Why a signed request is refused, or `nil` when it is good (and now counted as seen).
    func check(keyID: String, method: String, path: String, timestamp: Int64, signature: String, body: [UInt8], now: Int64) -> (code: String, detail: String)? {
        guard abs(now - timestamp) <= Self.windowSeconds else {
            return ("signature_expired", "X-Tally-Timestamp \(timestamp) is more than \(Self.windowSeconds) s from the server's clock (\(now)); sync the clock and sign again")
        }
        let expected = Self.signature(secret: self.secret(forKey: keyID), method: method, path: path, timestamp: timestamp, body: body)
        guard Self.constantTimeEqual(Array(expected.utf8), Array(signature.lowercased().utf8)) else {
            return ("invalid_signature", "X-Tally-Signature does not match: sign METHOD\\nPATH?QUERY\\nTIMESTAMP\\nSHA256(body) with the key's signing secret")
        }
        let replayed = self.seen.withLockedValue { seen -> Bool in
            seen = seen.filter { now - $0.value <= Self.windowSeconds * 2 }
            return seen.updateValue(timestamp, forKey: signature.lowercased()) != nil
        }
        if replayed { return ("replayed_request", "this signed request was already received; sign each request anew (a new timestamp)") }
        return nil
    }

    private static func mac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        HMACSHA256.code(key: key, message: message)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map(TallyServer.hex).joined() }
}
