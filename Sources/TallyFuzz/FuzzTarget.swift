import Foundation
@_spi(Fuzzing) import Tally
import TallyDomain
import TallyLog
@_spi(Fuzzing) import TallyServer

/// One reader of untrusted bytes that the fuzzer feeds. Each ``run(_:)`` must return for
/// every input: a refusal is an expected outcome, a crash, trap or sanitizer report is a bug.
/// Where a reader accepts an input, the target also checks what must then hold (a decoded
/// event re-encodes to an equal one, an accepted payload parses).
enum FuzzTarget: String, CaseIterable {
    /// A stored log record: ``RecordView`` and ``EventLog/decodeRecord(_:)``, checksum or not.
    case record
    /// A domain event payload; the first byte picks the event type, the rest is the payload.
    /// Also read as a payments snapshot.
    case payload
    /// A backup's log segment file, read the way `tally restore` reads it.
    case segment
    /// A backup manifest, a views-snapshot manifest and an audit-export manifest.
    case manifest
    /// An audit export and its manifest (the manifest up to the first NUL byte, the export
    /// after it), checked the way `tally audit verify` checks them.
    case export
    /// An HTTP request body, decoded as every body the API reads.
    case request

    /// What the target reads, for `--help`.
    var summary: String {
        switch self {
        case .record: "a stored log record (RecordView, EventLog.decodeRecord)"
        case .payload: "a domain event payload (byte 0 picks the type) and a payments snapshot"
        case .segment: "a backup's log segment file (the restore reader)"
        case .manifest: "backup, views-snapshot and audit-export manifests"
        case .export: "an audit export: manifest, NUL, export lines (tally audit verify)"
        case .request: "an HTTP request body (JSON parser, /v1/events, /v1/transfers)"
        }
    }

    /// The event types the `payload` target picks from with its first byte.
    static let eventTypes: [String] = PaymentEvent.types.sorted() + [
        "deployment.started", "deployment.succeeded", "deployment.failed", "deployment.rolled_back", "service.scaled",
        "config.changed", "migration.applied", "health.checked",
    ]

    /// Feeds `bytes` to the reader.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .record: Self.record(bytes)
        case .payload: Self.payload(bytes)
        case .segment: Self.segment(bytes)
        case .manifest: Self.manifest(bytes)
        case .export: Self.export(bytes)
        case .request: _ = RequestBodyFuzzing.decode(bytes)
        }
    }

    private static func record(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            guard let view = try? RecordView(raw) else { return }
            _ = view.computeChecksum()
            _ = (view.position, view.streamVersion, view.eventID, view.storedChecksum, view.previousChecksum)
            _ = try? view.decode()
        }
        _ = try? EventLog.decodeRecord(bytes)
    }

    private static func payload(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let type = Self.eventTypes[Int(first) % Self.eventTypes.count]
        let payload = Array(bytes.dropFirst())
        if PaymentEvent.types.contains(type) {
            if let event = try? PaymentEvent(type: type, payload: payload) {
                precondition(
                    (try? PaymentEvent(type: event.type, payload: event.payload)) == event, "a decoded \(type) does not survive re-encoding")
            }
        } else if let event = try? OperationsEvent(type: type, payload: payload) {
            precondition(
                (try? OperationsEvent(type: event.type, payload: event.payload)) == event, "a decoded \(type) does not survive re-encoding")
        }
        if let state = try? PaymentsState(snapshot: payload) {
            precondition((try? PaymentsState(snapshot: state.snapshot())) == state, "a restored snapshot does not survive re-encoding")
        }
    }

    private static func segment(_ bytes: [UInt8]) {
        let path = Scratch.write(bytes, to: "segment.tlog")
        _ = try? RecoveryFuzzing.readSegment(atPath: path)
    }

    private static func manifest(_ bytes: [UInt8]) {
        let data = Data(bytes)
        if let manifest = try? BackupManifest.decode(data, path: "manifest.json") { _ = manifest.head }
        _ = try? JSONDecoder().decode(ViewSnapshot.Manifest.self, from: data)
        _ = try? JSONDecoder().decode(AuditManifest.self, from: data)
    }

    private static func export(_ bytes: [UInt8]) {
        let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
        let path = Scratch.write(Array(bytes[split...].dropFirst()), to: "export.jsonl")
        _ = Scratch.write(Array(bytes[..<split]), to: "export.jsonl.manifest.json")
        _ = try? Ledger.verifyAuditExport(at: path)
    }
}

/// The per-process directory the file-reading targets write their input to.
enum Scratch {
    static let directory: String = {
        let path = NSTemporaryDirectory() + "/tally-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `bytes` to `name` in ``directory``; returns its path.
    static func write(_ bytes: [UInt8], to name: String) -> String {
        let path = Self.directory + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            preconditionFailure("cannot write the fuzz input to \(path)")
        }
        return path
    }
}
