import Foundation

extension AuditManifest {
    /// The manifest as JSON text, keys sorted, two-space indents (the layout `JSONEncoder`
    /// with `.prettyPrinted` and `.sortedKeys` gives), written by hand.
    /// A manifest lists a seal per commit of the range, and the encoder's intermediate tree
    /// took ~2 KB a seal: 40 MB at the end of a 1.8 M-event export of small commits, where
    /// the export itself runs in 40.
    func encodedJSON() -> [UInt8] {
        var bytes: [UInt8] = []
        self.encode(into: { bytes.append(contentsOf: $0) }) { emit in
            for each in self.seals { emit(each.first, each.last) { $0.putQuoted(each.seal) } }
        }
        return bytes
    }

    /// Writes the manifest to `path`, its seals from `source` as they come (not from
    /// ``AuditManifest/seals``), a piece of at most ~1 MiB at a time: memory stays the same whatever the
    /// number of commits.
    ///
    /// - Throws: ``RecoveryError`` `io` when the file cannot be written, or what `seals` throws.
    func write(to path: String, seals source: SealSource) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RecoveryError(.io, "cannot create \(path): \(String(cString: strerror(errno)))", file: path) }
        defer { close(descriptor) }
        var failure: RecoveryError?
        try self.encode(into: { piece in
            guard failure == nil, let base = piece.baseAddress else { return }
            var written = 0
            while written < piece.count {
                let n = Glibc.write(descriptor, base + written, piece.count - written)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else {
                    failure = RecoveryError(.io, "cannot write \(path): \(String(cString: strerror(errno)))", file: path)
                    return
                }
                written += n
            }
        }) { emit in
            try withoutActuallyEscaping(emit) { emit in
                try source { first, last, bytes in
                    emit(first, last) { out in
                        out.put(UInt8(ascii: "\""))
                        for word in 0..<(bytes.count / 8) { out.putHex(UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8 * word, as: UInt64.self))) }
                        out.put(UInt8(ascii: "\""))
                    }
                }
            }
        }
        if let failure { throw failure }
    }

    /// Where a manifest's seals come from when they are not in memory: a function that hands
    /// each one (first position, last position, the seal's 32 bytes) to its argument.
    typealias SealSource = ((_ first: UInt64, _ last: UInt64, _ seal: UnsafeRawBufferPointer) -> Void) throws -> Void

    /// The manifest in pieces to `sink`; `seals` hands each seal to its argument (first and
    /// last position, and what writes the seal's JSON string).
    private func encode<E: Error>(
        into sink: @escaping (UnsafeRawBufferPointer) -> Void,
        seals: (_ emit: (UInt64, UInt64, (inout LineBuffer) -> Void) -> Void) throws(E) -> Void
    ) throws(E) {
        let flushAt = 1 << 20
        var out = LineBuffer(capacity: flushAt + 4_096)
        var first = true
        func key(_ name: StaticString) {
            out.put(first ? "{\n  " : ",\n  ")
            first = false
            out.put(UInt8(ascii: "\""))
            out.put(name)
            out.put("\" : ")
        }
        func string(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            out.putQuoted(value)
        }
        func number(_ name: StaticString, _ value: UInt64?) {
            guard let value else { return }
            key(name)
            out.putDecimal(value)
        }
        func bool(_ name: StaticString, _ value: Bool) {
            key(name)
            out.put(value ? "true" : "false")
        }
        bool("chain_complete", self.chainComplete)
        string("checksum_at_end", self.checksumAtEnd)
        number("count", self.count)
        string("created_at", self.createdAt)
        string("file", self.file)
        key("filters")
        if self.filters.isEmpty {
            out.put("{}")
        } else {
            for (index, name) in self.filters.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                out.put(index == 0 ? "{\n    " : ",\n    ")
                out.putQuoted(name)
                out.put(" : ")
                out.putQuoted(self.filters[name] ?? "")
            }
            out.put("\n  }")
        }
        number("first_position", self.firstPosition)
        string("first_recorded_at", self.firstRecordedAt)
        string("format", self.format)
        number("last_position", self.lastPosition)
        string("last_recorded_at", self.lastRecordedAt)
        number("manifest_version", UInt64(max(self.manifestVersion, 0)))
        string("previous_checksum_at_start", self.previousChecksumAtStart)
        key("seals")
        var sealCount = 0
        func seal(_ first: UInt64, _ last: UInt64, _ value: (inout LineBuffer) -> Void) {
            out.put(sealCount == 0 ? "[\n    {\n      \"first\" : " : ",\n    {\n      \"first\" : ")
            out.putDecimal(first)
            out.put(",\n      \"last\" : ")
            out.putDecimal(last)
            out.put(",\n      \"seal\" : ")
            value(&out)
            out.put("\n    }")
            sealCount += 1
            if out.count >= flushAt {
                sink(out.bytes)
                out.removeAll()
            }
        }
        try seals(seal)
        out.put(sealCount == 0 ? "[]" : "\n  ]")
        string("sha256", self.sha256)
        string("tool", self.tool)
        bool("with_proof", self.withProof)
        string("xxh3", self.xxh3)
        out.put("\n}")
        sink(out.bytes)
    }
}
