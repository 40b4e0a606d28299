import Foundation
import Tally
import TallyTesting
import Testing

/// Opening a ledger rebuilds its payments and operations write models in one pass over the
/// log after their checkpoints, decoding only their own streams' events.
@Suite struct WriteModelReplayTests {
    @Test func interleavedDomainsAndPlainEventsReplayToTheLiveStateWritableAndReadOnly() async throws {
        try await withTemporaryDirectory { dir in
            let configuration = LogConfiguration(tailEventsMax: 64, createIfMissing: true)
            let ledger = try await Ledger.open(at: dir.path, configuration: configuration, expiryInterval: nil, paymentsCheckpointEvents: 20)
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            for wallet in 0..<4 { _ = try await ledger.openAccount(Account(id: DomainID(stringLiteral: "w\(wallet)"), agent: "a", currency: "APX")) }
            for round in 0..<120 {
                _ = try await ledger.submit(
                    TransferRequest(id: DomainID(stringLiteral: "t\(round)"), debitAccount: "treasury",
                                    creditAccount: DomainID(stringLiteral: "w\(round % 4)"), amount: UInt64(round + 1), currency: "APX"))
                _ = try await ledger.execute(
                    .reportHealth(HealthCheck(component: DomainID(stringLiteral: "c\(round % 3)"), status: round % 5 == 0 ? .degraded : .healthy,
                                              latencyMilliseconds: UInt64(round))))
                if round % 10 == 0 {
                    _ = try await ledger.execute(.startDeployment(Deployment(id: DomainID(stringLiteral: "d\(round)"), service: "api", version: "\(round)", environment: "prod", actor: "ci")))
                }
                // Plain events between them: checked by the replay, not decoded.
                _ = try await ledger.log.append(to: "agent-\(round % 7)", events: [ProposedEvent(type: "agent.note", payload: Array("not json \(round)".utf8))])
            }
            // The log's last events come after both models' newest checkpoints.
            _ = try await ledger.submit(TransferRequest(id: "last", debitAccount: "treasury", creditAccount: "w0", amount: 7, currency: "APX"))
            _ = try await ledger.execute(.succeedDeployment("d110", durationMilliseconds: 9))
            try await ledger.log.waitForWriterIdle()
            let payments = ledger.paymentsSnapshot()
            let operations = ledger.operationsSnapshot()
            #expect(payments.transfers.count == 121 && operations.deployments.count == 12)
            await ledger.close()

            for readOnly in [false, true] {
                let reopened = try await Ledger.open(
                    at: dir.path, configuration: LogConfiguration(readOnly: readOnly), expiryInterval: nil, paymentsCheckpointEvents: 20)
                #expect(reopened.paymentsSnapshot() == payments, "payments after reopening (read-only: \(readOnly))")
                #expect(reopened.operationsSnapshot() == operations, "operations after reopening (read-only: \(readOnly))")
                await reopened.close()
            }
        }
    }

    @Test func aReadOnlyOpenWithoutWriteModelsExportsTheSameAndAWriterIgnoresTheFlag() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            _ = try await ledger.openAccount(Account(id: "w0", agent: "a", currency: "APX"))
            for index in 0..<50 {
                _ = try await ledger.submit(TransferRequest(id: DomainID(stringLiteral: "t\(index)"), debitAccount: "treasury", creditAccount: "w0", amount: 3, currency: "APX"))
                _ = try await ledger.log.append(to: "agent-\(index % 3)", events: [ProposedEvent(type: "agent.note", payload: Array("{\"n\":\(index)}".utf8))])
            }
            await ledger.close()

            var files: [String] = []
            for models in [true, false] {
                let reader = try await Ledger.open(
                    at: dir.path, configuration: LogConfiguration(readOnly: true), expiryInterval: nil, replayingWriteModels: models)
                let path = dir.path + "/export-\(models).jsonl"
                let manifest = try reader.exportAudit(to: path, format: .jsonl, filter: AuditFilter(), withProof: true)
                #expect(manifest.count == reader.log.headPosition)
                files.append(try String(contentsOfFile: path, encoding: .utf8))
                await reader.close()
            }
            #expect(files.count == 2 && files[0] == files[1])

            let writer = try await Ledger.open(at: dir.path, configuration: LogConfiguration(), expiryInterval: nil, replayingWriteModels: false)
            #expect(writer.account("w0")?.creditsPosted == 150, "a writable open rebuilds its write models whatever the flag says")
            await writer.close()
        }
    }
}
