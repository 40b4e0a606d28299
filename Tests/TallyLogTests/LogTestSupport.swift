import Foundation
import TallyTesting
@testable import TallyLog

/// Opens a log in a fresh directory, runs `body`, closes and removes it.
func withLog<T>(
    tailEventsMax: Int = Limits.tailEventsMax,
    mapSizeBytes: Int = 1 << 30,
    _ body: (EventLog, TemporaryDirectory) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory(prefix: "tally-log") { dir in
        let log = try await EventLog.open(
            at: dir.path,
            configuration: LogConfiguration(mapSizeBytes: mapSizeBytes, tailEventsMax: tailEventsMax, createIfMissing: true))
        do {
            let value = try await body(log, dir)
            await log.close()
            return value
        } catch {
            await log.close()
            throw error
        }
    }
}

func event(_ type: String = "test.happened", _ payload: String = "{}", id: UUID = UUID(), actor: String? = nil) -> ProposedEvent {
    ProposedEvent(id: id, type: type, payload: Array(payload.utf8), metadata: EventMetadata(actor: actor))
}

/// The code of the `LogError` that `body` throws, or `nil`.
func rejection(_ body: () async throws -> Void) async -> LogError.Code? {
    do {
        try await body()
        return nil
    } catch let error as LogError {
        return error.code
    } catch {
        return nil
    }
}
