import Foundation
import TallyChecksum
import TallyDomain
import TallyLog

// The events payment commands append: made ahead of the commit for posted transfers
// (`Speculation`, in the caller's task), or by the writer thread for every other command.
extension PaymentsModel {
    /// The event a posted transfer yields if it is accepted, made ahead of the commit (in
    /// the caller's task) with its outcome, so that the writer thread only decides it.
    ///
    /// A class: the writer thread takes one out of the batch's list per command, and a
    /// reference is one retain where the fields' copy was a dozen.
    final class Speculation: Sendable {
        let transfer: Transfer
        let streams: PreparedStreams
        /// `applied` with the transfer's `transfer.created`.
        let outcome: PaymentOutcome

        init(transfer: Transfer, streams: PreparedStreams) {
            self.transfer = transfer
            self.streams = streams
            self.outcome = .applied([.transferCreated(transfer)])
        }

        /// The `transfer.created` event.
        var event: PaymentEvent { .transferCreated(self.transfer) }
    }

    /// What `command` would append if accepted, where that does not depend on the state: a
    /// posted transfer's `transfer.created` (`nil` for every other command).
    static func speculate(_ command: PaymentCommand, metadata: EventMetadata) -> Speculation? {
        guard case .transfer(let request) = command, request.timeoutNanoseconds == nil else { return nil }
        let transfer = Payments.newTransfer(request)
        let event = PaymentEvent.transferCreated(transfer)
        let streamID = event.streamID
        // What `streams(for: [event])` appends, without its arrays.
        let proposed = ProposedEvent(
            id: Self.eventID(stream: streamID, version: event.streamVersion), type: event.type, payload: event.payload, metadata: metadata)
        let expected: ExpectedVersion = event.streamVersion == 0 ? .noStream : .exact(event.streamVersion - 1)
        guard let streams = try? PreparedStreams(streamID: streamID, expectedVersion: expected, event: proposed) else { return nil }
        return Speculation(transfer: transfer, streams: streams)
    }

    /// The appends for `events`: one stream append per stream, in first-seen order, each
    /// expecting the version its first event takes (so a stream is created exactly once).
    static func streams(for events: [PaymentEvent], metadata: EventMetadata = .empty) -> [StreamAppend] {
        if events.count == 1, let event = events.first {
            let expected: ExpectedVersion = event.streamVersion == 0 ? .noStream : .exact(event.streamVersion - 1)
            let streamID = event.streamID
            let id = Self.eventID(stream: streamID, version: event.streamVersion)
            return [
                StreamAppend(
                    streamID: streamID, expectedVersion: expected,
                    events: [ProposedEvent(id: id, type: event.type, payload: event.payload, metadata: metadata)])
            ]
        }
        var streams: [StreamAppend] = []
        var indexOf: [String: Int] = [:]
        for event in events {
            let proposed = ProposedEvent(id: Self.eventID(event), type: event.type, payload: event.payload, metadata: metadata)
            if let index = indexOf[event.streamID] {
                streams[index].events.append(proposed)
            } else {
                indexOf[event.streamID] = streams.count
                let expected: ExpectedVersion = event.streamVersion == 0 ? .noStream : .exact(event.streamVersion - 1)
                streams.append(StreamAppend(streamID: event.streamID, expectedVersion: expected, events: [proposed]))
            }
        }
        return streams
    }

    /// The event id of a payment event: derived from its stream and version, so the log's
    /// own idempotency refuses a second opening or closing event for the same account or
    /// transfer even if the write model were wrong. UUID version 8 (custom), RFC 9562 variant.
    static func eventID(_ event: PaymentEvent) -> UUID {
        Self.eventID(stream: event.streamID, version: event.streamVersion)
    }

    /// ``eventID(_:)`` of the event at `version` of `stream`: the first 16 bytes of the
    /// SHA-256 of `tally.payments:<stream>#<version>`, with the version and variant bits set.
    static func eventID(stream: String, version: UInt64) -> UUID {
        let prefix: StaticString = "tally.payments:"
        let version = String(version)
        let count = prefix.utf8CodeUnitCount + stream.utf8.count + 1 + version.utf8.count
        // On the stack: this runs for every payment event, and an array was an allocation each.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { input in
            var end = 0
            func put(_ bytes: some Sequence<UInt8>) {
                for byte in bytes {
                    input[end] = byte
                    end += 1
                }
            }
            prefix.withUTF8Buffer { put($0) }
            put(stream.utf8)
            put(CollectionOfOne(UInt8(ascii: "#")))
            put(version.utf8)
            return SHA256Digest.withHash(of: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[..<end]))) { digest in
                UUID(uuid: (
                    digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], (digest[6] & 0x0F) | 0x80, digest[7],
                    (digest[8] & 0x3F) | 0x80, digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]
                ))
            }
        }
    }
}
