import Foundation

/// RFC 3339 times in UTC, as the CLI, the audit export and the HTTP API write and read them.
public enum RFC3339 {
    /// `2026-11-22T07:40:01.123456789Z` for nanoseconds since 1970.
    public static func format(nanoseconds: UInt64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let fraction = String(nanoseconds % 1_000_000_000)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%@Z", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), String(repeating: "0", count: 9 - fraction.count) + fraction)
    }

    /// Nanoseconds since 1970 for an RFC 3339 time (with or without fractional seconds, any
    /// offset), or `nil` when `text` is not one or lies before 1970.
    public static func parse(_ text: String) -> UInt64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = formatter.date(from: text) ?? {
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.date(from: text)
        }()
        guard let date, date.timeIntervalSince1970 >= 0 else { return nil }
        return UInt64(date.timeIntervalSince1970 * 1e9)
    }
}
