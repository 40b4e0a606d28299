/// The binary form of ``EventMetadata``: `u16 count`, then per entry, sorted by key bytes,
/// `u16 key length, key, u16 value length, value` (UTF-8, little-endian lengths).
enum MetadataCoding {
    static func encode(_ metadata: EventMetadata) -> [UInt8] {
        let entries = metadata.entries
        if entries.isEmpty { return [] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 + entries.reduce(0) { $0 + 4 + $1.key.utf8.count + $1.value.utf8.count })
        append(UInt16(truncatingIfNeeded: entries.count), to: &bytes)
        for (key, value) in entries {
            append(UInt16(truncatingIfNeeded: key.utf8.count), to: &bytes)
            bytes.append(contentsOf: key.utf8)
            append(UInt16(truncatingIfNeeded: value.utf8.count), to: &bytes)
            bytes.append(contentsOf: value.utf8)
        }
        return bytes
    }

    /// Decodes metadata; `nil` when the bytes are malformed.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> EventMetadata? {
        if bytes.isEmpty { return .empty }
        guard bytes.count >= 2 else { return nil }
        let count = Int(bytes.loadLE(UInt16.self, at: 0))
        var offset = 2
        var entries: [(key: String, value: String)] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            guard let key = string(bytes, &offset), let value = string(bytes, &offset) else { return nil }
            entries.append((key: key, value: value))
        }
        guard offset == bytes.count else { return nil }
        return EventMetadata(entries: entries)
    }

    /// Visits the entries' raw key and value bytes; `false` when the bytes are malformed.
    static func forEach(
        _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) rethrows -> Bool {
        if bytes.isEmpty { return true }
        guard bytes.count >= 2 else { return false }
        let count = Int(bytes.loadLE(UInt16.self, at: 0))
        var offset = 2
        for _ in 0..<count {
            guard let key = slice(bytes, &offset), let value = slice(bytes, &offset) else { return false }
            try body(key, value)
        }
        return offset == bytes.count
    }

    private static func slice(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> UnsafeRawBufferPointer? {
        guard offset + 2 <= bytes.count else { return nil }
        let length = Int(bytes.loadLE(UInt16.self, at: offset))
        offset += 2
        guard offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }

    private static func string(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> String? {
        guard offset + 2 <= bytes.count else { return nil }
        let length = Int(bytes.loadLE(UInt16.self, at: offset))
        offset += 2
        guard offset + length <= bytes.count else { return nil }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
        offset += length
        return String(validating: slice.bindMemory(to: UInt8.self), as: UTF8.self)
    }

    private static func append(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }
}
