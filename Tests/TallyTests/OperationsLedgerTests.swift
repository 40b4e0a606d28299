import Foundation
import Tally
import TallyTesting
import Testing

@Suite struct OperationsLedgerTests {
    @Test func randomOperationsFoldTheSameLiveAfterReopenAndFromTheLog() async throws {
        try await withTemporaryDirectory { dir in
            let configuration = LogConfiguration(tailEventsMax: 64, createIfMissing: true)
            var ledger = try await Ledger.open(at: dir.path, configuration: configuration, expiryInterval: nil, paymentsCheckpointEvents: 10)
            var random = SystemRandomNumberGenerator()
            func id(_ prefix: String, _ count: Int) -> DomainID { DomainID(stringLiteral: "\(prefix)\(Int.random(in: 0..<count, using: &random))") }
            var applied = 0
            for _ in 0..<300 {
                let command: OperationsCommand
                switch Int.random(in: 0..<7, using: &random) {
                case 0: command = .startDeployment(Deployment(id: id("d", 40), service: id("s", 3), version: "1", environment: "prod", actor: "a"))
                case 1: command = .succeedDeployment(id("d", 40), durationMilliseconds: 5)
                case 2: command = .failDeployment(id("d", 40), reason: "x")
                case 3: command = .rollBackDeployment(id("d", 40), toVersion: "0", reason: "y")
                case 4: command = .scaleService(service: id("s", 3), environment: "prod", from: UInt64.random(in: 0...3, using: &random), to: UInt64.random(in: 0...3, using: &random))
                case 5: command = .applyMigration(service: id("s", 3), migration: id("m", 10))
                default:
                    command = .reportHealth(HealthCheck(component: id("c", 4), status: HealthStatus.allCases.randomElement(using: &random) ?? .healthy, latencyMilliseconds: 3))
                }
                if try await ledger.execute(command).succeeded { applied += 1 }
            }
            #expect(applied > 100)
            let live = ledger.operationsSnapshot()
            #expect(!live.deployments.isEmpty && !live.health.isEmpty)
            await ledger.close()
            ledger = try await Ledger.open(at: dir.path, configuration: configuration, expiryInterval: nil, paymentsCheckpointEvents: 10)
            #expect(ledger.operationsSnapshot() == live, "checkpoint + replay differs from the live state")
            // An independent fold of the whole log.
            var folded = OperationsState()
            var position: UInt64 = 1
            while let last = try ledger.log.read(fromPosition: position, limit: 1_000).last {
                for event in try ledger.log.read(fromPosition: position, limit: 1_000) where OperationsEvent.isOperationsStream(event.streamID) {
                    try Operations.evolve(try OperationsEvent(type: event.type, payload: event.payload), state: &folded)
                }
                position = last.position + 1
            }
            #expect(folded == live)
            #expect(try ledger.log.verify().isClean)
            await ledger.close()
        }
    }
}
