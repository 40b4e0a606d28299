import Foundation

/// RFC 3339 times in UTC, as the CLI, the audit export and the HTTP API write and read them.
public enum RFC3339 {
    /// `2026-11-22T07:40:01.123456789Z` for nanoseconds since 1970.
    public static func format(nanoseconds: UInt64) -> String {
        String(unsafeUninitializedCapacity: Self.length) { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            Self.write(nanoseconds: nanoseconds, into: base)
            return Self.length
        }
    }

    /// The length of a formatted time.
    static let length = 30

    /// Writes ``format(nanoseconds:)``'s 30 bytes at `out`. The civil date comes from the day
    /// count by Howard Hinnant's `civil_from_days` (no `gmtime_r`, no locale): the audit
    /// export formats a time per line.
    static func write(nanoseconds: UInt64, into out: UnsafeMutablePointer<UInt8>) {
        let seconds = nanoseconds / 1_000_000_000
        let secondOfDay = Int(seconds % 86_400)
        // Days since 0000-03-01 in the proleptic Gregorian calendar.
        let days = Int(seconds / 86_400) + 719_468
        let era = days / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func put(_ value: Int, at offset: Int, width: Int) {
            var value = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                out[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10)
                value /= 10
            }
        }
        put(year, at: 0, width: 4)
        out[4] = UInt8(ascii: "-")
        put(month, at: 5, width: 2)
        out[7] = UInt8(ascii: "-")
        put(day, at: 8, width: 2)
        out[10] = UInt8(ascii: "T")
        put(secondOfDay / 3_600, at: 11, width: 2)
        out[13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, at: 14, width: 2)
        out[16] = UInt8(ascii: ":")
        put(secondOfDay % 60, at: 17, width: 2)
        out[19] = UInt8(ascii: ".")
        put(Int(nanoseconds % 1_000_000_000), at: 20, width: 9)
        out[29] = UInt8(ascii: "Z")
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
