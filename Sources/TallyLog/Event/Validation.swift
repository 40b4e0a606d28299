/// Checks of caller input against ``Limits``, run before an append reaches the committer.
enum Validation {
    static func streamID(_ id: String) throws(LogError) -> [UInt8] {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty else {
            throw LogError(.invalidStreamID, "stream id is empty; use e.g. 'account-42'")
        }
        guard bytes.count <= Limits.streamIDBytesMax else {
            throw LogError(
                .invalidStreamID,
                "stream id is \(bytes.count) bytes; the limit is \(Limits.streamIDBytesMax) bytes of UTF-8")
        }
        // Fast path: ASCII without C0 controls or DEL needs no Unicode tables.
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return bytes }
        for scalar in id.unicodeScalars where scalar.properties.generalCategory == .control {
            throw LogError(
                .invalidStreamID,
                "stream id '\(id.debugDescription)' contains control character U+\(String(scalar.value, radix: 16, uppercase: true))")
        }
        return bytes
    }

    static func eventType(_ type: String) throws(LogError) -> [UInt8] {
        let bytes = Array(type.utf8)
        guard !bytes.isEmpty, bytes.count <= Limits.typeBytesMax else {
            throw LogError(
                .invalidEventType,
                "event type must be 1 to \(Limits.typeBytesMax) bytes; got \(bytes.count)")
        }
        // Dotted lowercase: segments of [a-z][a-z0-9_]* joined by single dots.
        var segmentStart = true
        for byte in bytes {
            let isLower = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let isDigitOrUnderscore = (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
            if byte == UInt8(ascii: "."), !segmentStart {
                segmentStart = true
            } else if isLower || (!segmentStart && isDigitOrUnderscore) {
                segmentStart = false
            } else {
                throw LogError(
                    .invalidEventType,
                    "event type '\(type)' is not dotted lowercase (like 'transfer.posted': segments of a-z, 0-9 and _, starting with a letter)")
            }
        }
        guard !segmentStart else {
            throw LogError(.invalidEventType, "event type '\(type)' ends with a dot")
        }
        return bytes
    }

    static func metadata(_ metadata: EventMetadata) throws(LogError) -> [UInt8] {
        if metadata == .empty { return [] }
        for key in metadata.extra.keys where EventMetadata.reservedKeys.contains(key) {
            throw LogError(.invalidMetadata, "metadata key '\(key)' is reserved; set the \(key) field instead")
        }
        let entries = metadata.entries
        guard entries.count <= Limits.metadataEntriesMax else {
            throw LogError(.invalidMetadata, "metadata has \(entries.count) entries; the limit is \(Limits.metadataEntriesMax)")
        }
        for (key, value) in entries where key.isEmpty || key.utf8.count > 0xFFFF || value.utf8.count > 0xFFFF {
            throw LogError(.invalidMetadata, "metadata key '\(key)' is empty or its key or value is over 65,535 bytes")
        }
        let bytes = MetadataCoding.encode(metadata)
        guard bytes.count <= Limits.metadataBytesMax else {
            throw LogError(
                .invalidMetadata,
                "metadata encodes to \(bytes.count) bytes; the limit is \(Limits.metadataBytesMax)")
        }
        return bytes
    }

    /// Validates `event`; `previous` (the event before it in the same append) lets a run of
    /// events with the same type and metadata share their encoded bytes.
    static func event(_ event: ProposedEvent, after previous: PreparedEvent? = nil) throws(LogError) -> PreparedEvent {
        guard event.payload.count <= Limits.payloadBytesMax else {
            throw LogError(
                .payloadTooLarge,
                "payload of event \(event.id) is \(event.payload.count) bytes; the limit is \(Limits.payloadBytesMax)")
        }
        let type: [UInt8]
        let metadata: [UInt8]
        if let previous, previous.source.type == event.type {
            type = previous.type
        } else {
            type = try Self.eventType(event.type)
        }
        if let previous, previous.source.metadata == event.metadata {
            metadata = previous.metadata
        } else {
            metadata = try Self.metadata(event.metadata)
        }
        // Checked once here, in the caller's task, so that every later reader (the audit
        // export, the HTTP reads) can copy the payload as JSON without parsing it again.
        let flags = JSONSyntax.isValid(event.payload) ? RecordLayout.payloadIsJSONFlag : 0
        return PreparedEvent(
            id: event.id, key: EventKey(event.id), type: type, metadata: metadata, payload: event.payload, flags: flags, source: event)
    }
}
