import ArgumentParser
import Foundation
import Tally
import TallyServer

/// Rendering of results and errors for people (text) and scripts (`--json`).
enum Output {
    static func print(json: Bool, _ object: [String: Any], text: @autoclosure () -> String) {
        if json {
            Swift.print(self.json(object))
        } else {
            Swift.print(text())
        }
    }

    static func json(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func error(_ error: any Error, json: Bool) {
        let (code, message): (String, String)
        if let error = error as? LogError {
            (code, message) = (error.code.rawValue, error.message)
        } else if let error = error as? Rejection {
            (code, message) = (error.code.rawValue, error.message)
        } else if let error = error as? APIProblem {
            (code, message) = (error.code, error.detail)
        } else if let error = error as? RecoveryError {
            (code, message) = (error.code.rawValue, error.message)
        } else if let error = error as? CLIError {
            (code, message) = (error.code, error.message)
        } else {
            (code, message) = ("error", "\(error)")
        }
        if json {
            Swift.print(self.json(["error": ["code": code, "message": message]]))
        } else {
            FileHandle.standardError.write(Data("error: \(code): \(message)\n".utf8))
        }
    }

    /// An event as JSON: payload inlined when it is JSON, else as a string.
    static func object(_ event: RecordedEvent) -> [String: Any] {
        let payload: Any =
            (try? JSONSerialization.jsonObject(with: Data(event.payload), options: [.fragmentsAllowed]))
            ?? String(decoding: event.payload, as: UTF8.self)
        var metadata: [String: Any] = [:]
        for (key, value) in event.metadata.entries { metadata[key] = value }
        return [
            "position": event.position, "stream": event.streamID, "stream_version": event.streamVersion,
            "id": event.id.uuidString.lowercased(), "type": event.type,
            "recorded_at": rfc3339(nanoseconds: event.recordedAtNanoseconds), "metadata": metadata,
            "payload": payload, "checksum": hex(event.checksum), "previous_checksum": hex(event.previousChecksum),
        ]
    }

    static func line(_ event: RecordedEvent) -> String {
        let payload = String(decoding: event.payload, as: UTF8.self)
        let actor = event.metadata.actor.map { " actor=\($0)" } ?? ""
        return "\(event.position)\t\(rfc3339(nanoseconds: event.recordedAtNanoseconds))\t\(event.streamID)@\(event.streamVersion)\t\(event.type)\(actor)\t\(payload)"
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// RFC 3339 in UTC with nanoseconds, e.g. `2026-11-22T07:40:01.123456789Z`.
    static func rfc3339(nanoseconds: UInt64) -> String { RFC3339.format(nanoseconds: nanoseconds) }
}

/// A usage error found by the CLI itself.
struct CLIError: Error {
    let code: String
    let message: String
}

/// Runs `body`; on a Tally error prints it (code and message) and exits 1 for rejections,
/// 2 for usage and I/O errors.
func runReporting(json: Bool, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        Output.error(error, json: json)
        if error is Rejection { throw ExitCode(1) }
        if let error = error as? RecoveryError {
            // Damage found is exit 1 (like `tally verify`); usage and I/O problems are 2.
            let damage: Set<RecoveryError.Code> = [.fileChecksumMismatch, .manifestMismatch, .segmentTruncated, .segmentDoesNotChain, .corruption]
            throw ExitCode(damage.contains(error.code) ? 1 : 2)
        }
        if let error = error as? LogError {
            let usage: Set<LogError.Code> = [.notInitialized, .storage, .locked, .invalidArgument]
            throw ExitCode(usage.contains(error.code) ? 2 : 1)
        }
        throw ExitCode(2)
    }
}
