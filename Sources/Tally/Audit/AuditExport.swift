import Foundation
import TallyChecksum

/// What an audit export selects; every given filter must match.
public struct AuditFilter: Sendable {
    public var fromPosition: UInt64 = 1
    public var toPosition: UInt64?
    /// Recorded-at bounds, nanoseconds since 1970, inclusive.
    public var since: UInt64?
    public var until: UInt64?
    public var stream: String?
    public var category: String?
    public var actor: String?
    public var types: Set<String> = []

    public init() {}

    /// Whether only a position range is selected: then the export holds every record of it
    /// and the checksum chain can be verified from the first line to the last.
    public var isChainComplete: Bool {
        self.since == nil && self.until == nil && self.stream == nil && self.category == nil && self.actor == nil && self.types.isEmpty
    }

    /// Whether the record is selected, decided on its bytes (no decode).
    func matches(_ view: RecordView) -> Bool {
        let time = view.recordedAtNanoseconds
        if let since = self.since, time < since { return false }
        if let until = self.until, time > until { return false }
        if let stream = self.stream, !stream.utf8.elementsEqual(view.streamIDBytes) { return false }
        if let category = self.category {
            let bytes = view.streamIDBytes
            let end = bytes.firstIndex(of: UInt8(ascii: "-")) ?? bytes.count
            if !category.utf8.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[0..<end])) { return false }
        }
        if let actor = self.actor {
            var found = false
            _ = view.forEachMetadataEntry { key, value in
                if "actor".utf8.elementsEqual(key) { found = actor.utf8.elementsEqual(value) }
            }
            if !found { return false }
        }
        return self.types.isEmpty || self.types.contains(String(decoding: view.typeBytes, as: UTF8.self))
    }

    var description: [String: String] {
        var filters: [String: String] = ["from_position": String(self.fromPosition)]
        filters["to_position"] = self.toPosition.map(String.init)
        filters["since"] = self.since.map(AuditLine.rfc3339)
        filters["until"] = self.until.map(AuditLine.rfc3339)
        filters["stream"] = self.stream
        filters["category"] = self.category
        filters["actor"] = self.actor
        if !self.types.isEmpty { filters["types"] = self.types.sorted().joined(separator: ",") }
        return filters
    }
}

/// The export's file formats.
public enum AuditFormat: String, Sendable, CaseIterable {
    case jsonl, csv
}

/// `FILE.manifest.json`: what an export holds and how to check it.
public struct AuditManifest: Codable, Sendable, Equatable {
    public var manifestVersion = 1
    public var tool = "tally"
    public var createdAt: String
    public var format: String
    public var file: String
    public var filters: [String: String]
    /// Every record of the position range is in the file (no filter but positions).
    public var chainComplete: Bool
    public var withProof: Bool
    public var count: UInt64
    public var firstPosition: UInt64?
    public var lastPosition: UInt64?
    public var firstRecordedAt: String?
    public var lastRecordedAt: String?
    /// The checksum of the record before the first one (the chain's anchor), hex.
    public var previousChecksumAtStart: String?
    /// The checksum of the last record, hex.
    public var checksumAtEnd: String?
    /// The commits' seals that overlap the range: first and last position, SHA-256 hex. Read
    /// from a manifest file, every one; from ``Ledger/exportAudit(to:format:filter:withProof:progress:)``,
    /// none: the export streams them into the file (a ledger of small commits has one per
    /// event) and says how many in ``sealCount``.
    public var seals: [Seal]
    /// How many seals the export wrote into the manifest file (`nil` for a manifest read
    /// from a file: count ``seals``); not part of the file.
    public var sealCount: Int?
    /// The file's XXH3-64 and SHA-256, hex (also in FILE.xxh3 and FILE.sha256 for
    /// `xxhsum -c` and `sha256sum -c`).
    public var xxh3: String
    public var sha256: String

    public struct Seal: Codable, Sendable, Equatable {
        public var first: UInt64
        public var last: UInt64
        public var seal: String
    }

    enum CodingKeys: String, CodingKey {
        case manifestVersion = "manifest_version", tool, createdAt = "created_at", format, file, filters
        case chainComplete = "chain_complete", withProof = "with_proof", count
        case firstPosition = "first_position", lastPosition = "last_position"
        case firstRecordedAt = "first_recorded_at", lastRecordedAt = "last_recorded_at"
        case previousChecksumAtStart = "previous_checksum_at_start", checksumAtEnd = "checksum_at_end", seals, xxh3, sha256
    }
}

extension Ledger {
    /// Writes the events `filter` selects to `path` (JSONL or CSV) in constant memory, with
    /// `path.manifest.json`, `path.xxh3` and `path.sha256` beside it. Reads up to the head as
    /// it was when the export started (the log is append-only, so that range is fixed while
    /// writers go on). `progress` hears positions done and the last position.
    public func exportAudit(
        to path: String, format: AuditFormat, filter: AuditFilter, withProof: Bool = false,
        progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws -> AuditManifest {
        let last = min(filter.toPosition ?? self.log.headPosition, self.log.headPosition)
        let output = try HashedFileOutput(path: path)
        var fields = [Range<Int>?](repeating: nil, count: PayloadFields.keys.count)
        if format == .csv { output.write { $0.put(AuditLine.csvHeader) } }
        var count: UInt64 = 0
        var first: Ends?
        var previous: Ends?
        // Each record goes from the memory map straight to text in the file's current chunk;
        // the file's checksums and writes run on other threads (``HashedFileOutput``).
        try self.log.forEachRecord(
            fromPosition: max(filter.fromPosition, 1), through: last, releasingPages: true, checksumsAside: true, progress: { progress($0, last) }
        ) { view in
            guard filter.matches(view) else { return }
            let ends = Ends(view)
            if first == nil { first = ends }
            previous = ends
            count += 1
            try output.write { (line: inout LineBuffer) throws(LogError) in
                switch format {
                case .jsonl: try AuditLine.jsonl(view, withProof: withProof, into: &line)
                case .csv: try AuditLine.csv(view, fields: &fields, into: &line)
                }
            }
        }
        let digest = try output.finish()
        let name = URL(fileURLWithPath: path).lastPathComponent
        let xxh3 = digest.xxh3
        let sha256 = digest.sha256
        let manifest = AuditManifest(
            createdAt: AuditLine.rfc3339(UInt64(Date().timeIntervalSince1970 * 1e9)), format: format.rawValue, file: name,
            filters: filter.description, chainComplete: filter.isChainComplete, withProof: withProof && format == .jsonl, count: count,
            firstPosition: first?.position, lastPosition: previous?.position,
            firstRecordedAt: first.map { AuditLine.rfc3339($0.recordedAt) },
            lastRecordedAt: previous.map { AuditLine.rfc3339($0.recordedAt) },
            previousChecksumAtStart: first.map { XXH3.hex($0.previousChecksum) }, checksumAtEnd: previous.map { XXH3.hex($0.checksum) },
            seals: [], xxh3: xxh3, sha256: sha256)
        // The seals go from the log into the file as they are read: memory stays the same
        // whatever the number of commits in the range.
        var sealCount = 0
        let range = first.flatMap { first in previous.map { first.position...$0.position } }
        try manifest.write(to: path + ".manifest.json") { each in
            guard let range else { return }
            try self.log.forEachSeal(covering: range) { first, last, seal in
                each(first, last, seal)
                sealCount += 1
            }
        }
        var result = manifest
        result.sealCount = sealCount
        try "XXH3 (\(name)) = \(manifest.xxh3)\n".write(toFile: path + ".xxh3", atomically: true, encoding: .utf8)
        try "\(manifest.sha256)  \(name)\n".write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
        return result
    }
}

/// What the manifest keeps of an export's first and last record.
private struct Ends {
    var position: UInt64
    var recordedAt: UInt64
    var checksum: UInt64
    var previousChecksum: UInt64

    init(_ view: RecordView) {
        self.position = view.position
        self.recordedAt = view.recordedAtNanoseconds
        self.checksum = view.storedChecksum
        self.previousChecksum = view.previousChecksum
    }
}
