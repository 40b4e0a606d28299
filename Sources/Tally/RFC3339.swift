import Foundation

/// RFC 3339 times in UTC, as the CLI, the audit export and the HTTP API write and read them.
public enum RFC3339 {
    /// `2026-11-22T07:40:01.123456789Z` for nanoseconds since 1970.
    public static func format(nanoseconds: UInt64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Digits written by hand: `String(format:)` was a tenth of an audit export's time.
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: 30)
        func put(_ value: Int, at offset: Int, width: Int) {
            var value = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, at: 0, width: 4)
        bytes[4] = UInt8(ascii: "-")
        put(Int(parts.tm_mon) + 1, at: 5, width: 2)
        bytes[7] = UInt8(ascii: "-")
        put(Int(parts.tm_mday), at: 8, width: 2)
        bytes[10] = UInt8(ascii: "T")
        put(Int(parts.tm_hour), at: 11, width: 2)
        bytes[13] = UInt8(ascii: ":")
        put(Int(parts.tm_min), at: 14, width: 2)
        bytes[16] = UInt8(ascii: ":")
        put(Int(parts.tm_sec), at: 17, width: 2)
        bytes[19] = UInt8(ascii: ".")
        put(Int(nanoseconds % 1_000_000_000), at: 20, width: 9)
        bytes[29] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Nanoseconds since 1970 for an RFC 3339 time (with or without fractional seconds, any
    /// offset), or `nil` when `text` is not one or lies before 1970 or after 2554.
    public static func parse(_ text: String) -> UInt64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = formatter.date(from: text) ?? {
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.date(from: text)
        }()
        // Nanoseconds since 1970 fit in 64 bits until 2554; later (or earlier than 1970) is no time here.
        guard let date, date.timeIntervalSince1970 >= 0, date.timeIntervalSince1970 * 1e9 < 1.8e19 else { return nil }
        return UInt64(date.timeIntervalSince1970 * 1e9)
    }
}
