import Foundation
import Tally
@testable import TallyServer
import Testing

/// The `request` fuzz corpus holds one valid body per command route
/// (`fixtures/fuzz/request/body-*.json`, written by scripts/fuzz-seeds.sh): each must be
/// accepted by the decoder its route uses, so fuzzing starts past the first refusal.
@Suite struct CommandBodySeedTests {
    static func body(_ name: String) throws -> JSONObject {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/fuzz/request/body-\(name).json")
        return try JSONObject(try JSONValue.parse(Array(try Data(contentsOf: url)), depthMax: 64))
    }

    @Test func everyCommandBodySeedIsAcceptedByItsRoutesDecoder() throws {
        let id: DomainID = "seed-1"
        #expect(try TallyAPI.pendingCommit(try Self.body("commit"), transfer: id) == .commitPending(id, amount: 250))
        #expect(try TallyAPI.reversal(try Self.body("reverse"), of: id).reversal == "rev-1")
        #expect(try TallyAPI.deploymentSuccess(try Self.body("succeed"), deployment: id) == .succeedDeployment(id, durationMilliseconds: 84_000))
        #expect(try TallyAPI.deploymentFailure(try Self.body("fail"), deployment: id) == .failDeployment(id, reason: "health checks failed"))
        #expect(try TallyAPI.deploymentRollback(try Self.body("rollback"), deployment: id) == .rollBackDeployment(id, toVersion: "42", reason: "error rate"))
        #expect(try TallyAPI.serviceScaling(try Self.body("scale"), service: id) == .scaleService(service: id, environment: "prod", from: 3, to: 5))
        guard case .changeConfig(_, _, let key, let oldDigest, let newDigest) = try TallyAPI.configChange(try Self.body("config"), service: id) else {
            Issue.record("the config body did not decode to a config change")
            return
        }
        #expect(key == "pool_size" && oldDigest == Ledger.configDigest(of: "10") && newDigest == String(repeating: "ab", count: 32))
        #expect(try TallyAPI.migration(try Self.body("migration"), service: id) == .applyMigration(service: id, migration: "0042-add-index"))
        let check = try TallyAPI.healthCheck(try Self.body("health"))
        #expect(check.component == "db" && check.status == .healthy && check.latencyMilliseconds == 3 && check.detail == "ok é")
    }
}
