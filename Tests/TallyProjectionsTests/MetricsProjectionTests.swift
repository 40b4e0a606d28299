import Foundation
import Tally
import TallyProjections
import TallyTesting
import Testing

@Suite struct MetricsProjectionTests {
    /// Every counter equals a straightforward fold of the log, for a random mixed workload
    /// (payments of two currencies with pending, commits and reversals, deployments, health
    /// checks and other events), whatever the batch sizes: counts are summed per batch
    /// before they become series.
    @Test func countersEqualAFoldOfTheLog() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            var random = SystemRandomNumberGenerator()
            for currency in ["APX", "EUR"] {
                _ = try await ledger.openAccount(Account(id: DomainID(stringLiteral: "t-\(currency)"), agent: "ops", currency: Currency(stringLiteral: currency)))
                for index in 0..<3 {
                    _ = try await ledger.openAccount(Account(id: DomainID(stringLiteral: "w\(index)-\(currency)"), agent: "a", currency: Currency(stringLiteral: currency)))
                }
            }
            for index in 0..<300 {
                let currency = Bool.random(using: &random) ? "APX" : "EUR"
                let to = DomainID(stringLiteral: "w\(Int.random(in: 0..<3, using: &random))-\(currency)")
                switch Int.random(in: 0..<6, using: &random) {
                case 0, 1:
                    _ = try await ledger.submit(TransferRequest(
                        id: DomainID(stringLiteral: "p\(index)"), debitAccount: DomainID(stringLiteral: "t-\(currency)"), creditAccount: to,
                        amount: UInt64.random(in: 1...500, using: &random), currency: Currency(stringLiteral: currency)))
                    if index % 3 == 0 { _ = try await ledger.reverse(DomainID(stringLiteral: "r\(index)"), of: DomainID(stringLiteral: "p\(index)"), amount: 1) }
                case 2:
                    _ = try await ledger.submit(TransferRequest(
                        id: DomainID(stringLiteral: "h\(index)"), debitAccount: DomainID(stringLiteral: "t-\(currency)"), creditAccount: to, amount: 40,
                        currency: Currency(stringLiteral: currency), timeoutNanoseconds: 3_600_000_000_000))
                    _ = try await ledger.commitPending(DomainID(stringLiteral: "h\(index)"), amount: UInt64.random(in: 1...40, using: &random))
                case 3:
                    let id = DomainID(stringLiteral: "d\(Int.random(in: 0..<20, using: &random))")
                    let commands: [OperationsCommand] = [
                        .startDeployment(Deployment(id: id, service: "api", version: "v\(index)", environment: index % 2 == 0 ? "prod" : "dev", actor: "a")),
                        .succeedDeployment(id, durationMilliseconds: 5), .failDeployment(id, reason: "x"),
                        .rollBackDeployment(id, toVersion: "old", reason: "y"),
                    ]
                    _ = try await ledger.execute(commands[Int.random(in: 0..<commands.count, using: &random)])
                case 4:
                    _ = try await ledger.execute(.reportHealth(HealthCheck(component: "db", status: .healthy, latencyMilliseconds: 3)))
                default:
                    _ = try await ledger.log.append(to: "note-\(index % 4)", events: [ProposedEvent(type: index % 2 == 0 ? "note.added" : "note.kept", payload: Array("{}".utf8))])
                }
            }
            // The fold.
            var expected: [String: UInt64] = [:]
            var placement: [String: String] = [:]
            func count(_ key: String, _ value: UInt64 = 1) { expected[key, default: 0] += value }
            for event in try ledger.log.read(fromPosition: 1, limit: 100_000) {
                count("tally_events_total\u{1F}type=\(event.type)")
                if PaymentEvent.isPaymentStream(event.streamID) {
                    switch try PaymentEvent(type: event.type, payload: event.payload) {
                    case .transferCreated(let transfer) where transfer.kind != .pending:
                        count("tally_transfers_total\u{1F}currency=\(transfer.currency)\u{1F}kind=\(transfer.kind.rawValue)")
                        count("tally_transfer_volume_total\u{1F}currency=\(transfer.currency)", transfer.amount)
                    case .transferCommitted(_, let amount):
                        count("tally_pending_commits_total")
                        count("tally_pending_committed_volume_total", amount)
                    case .accountOpened(let account):
                        count("tally_accounts_opened_total\u{1F}currency=\(account.currency)")
                    default: break
                    }
                } else if event.streamID.hasPrefix("deployment-") {
                    switch try OperationsEvent(type: event.type, payload: event.payload) {
                    case .deploymentStarted(let deployment):
                        placement[deployment.id.rawValue] = "service=\(deployment.service)\u{1F}environment=\(deployment.environment)"
                        count("tally_deployments_total\u{1F}\(placement[deployment.id.rawValue] ?? "")\u{1F}outcome=started")
                    case .deploymentSucceeded(let id, _): count("tally_deployments_total\u{1F}\(placement[id.rawValue] ?? "")\u{1F}outcome=succeeded")
                    case .deploymentFailed(let id, _): count("tally_deployments_total\u{1F}\(placement[id.rawValue] ?? "")\u{1F}outcome=failed")
                    case .deploymentRolledBack(let id, _, _):
                        count("tally_deployments_total\u{1F}\(placement[id.rawValue] ?? "")\u{1F}outcome=rolled_back")
                        count("tally_rollbacks_total\u{1F}service=api")
                    default: break
                    }
                }
            }
            #expect(expected.count > 10)
            for batchEvents in [1, 13, 250_000] {
                let root = dir.path + "/views-\(batchEvents)"
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let views = try ViewStore.open(dataDirectory: root, projections: [MetricsProjection()])
                try await ProjectionWorker(projection: MetricsProjection(), log: ledger.log, views: views).catchUp(batchEventsMax: batchEvents)
                var counters: [String: UInt64] = [:]
                for (series, value) in try views.counters() {
                    counters[([series.name] + series.labels.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1F}")] = value
                }
                #expect(counters == expected, "batches of \(batchEvents)")
                views.close()
            }
            await ledger.close()
        }
    }
}
