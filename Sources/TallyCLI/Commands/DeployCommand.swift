import ArgumentParser
import Foundation
import Tally

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Record deployments, rollbacks, scaling, config changes and migrations.",
        discussion: """
              tally deploy start --id api-v42 --service api --version 42 \\
                  --environment prod --actor agent-7 [--strategy canary] [--reason R]
              tally deploy succeed --id api-v42 [--duration-ms 91000]
              tally deploy fail --id api-v42 --reason R
              tally deploy rollback --id api-v42 --to-version 41 --reason R
              tally deploy scale --service api --environment prod --from 3 --to 5
              tally deploy config --service api --environment prod --key max_conn \\
                  --old-value 100 --new-value 200
              tally deploy migrate --service api --migration 2026-11-20-add-index
              tally deploy list [--service api]
            Only digests of config values are stored. An impossible step (succeed after
            fail, a second migration with the same id) prints its code and exits 1.
            """,
        subcommands: [List.self, Start.self, Succeed.self, Fail.self, Rollback.self, Scale.self, Config.self, Migrate.self],
        defaultSubcommand: List.self)

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a deployment.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Deployment id.") var id: String
        @Option(help: "The service deployed.") var service: String
        @Option(help: "The version deployed.") var version: String
        @Option(help: "The environment, e.g. prod.") var environment: String
        @Option(help: "rolling, blue_green, canary or recreate.") var strategy: String = "rolling"
        @Option(help: "Who deploys (agent or person).") var actor: String
        @Option(help: "Why.") var reason: String?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                guard let strategy = Deployment.Strategy(rawValue: self.strategy) else {
                    throw Rejection(.invalidField, "strategy must be rolling, blue_green, canary or recreate")
                }
                let deployment = Deployment(
                    id: try DomainID(self.id, field: "--id"), service: try DomainID(self.service, field: "--service"),
                    version: self.version, environment: try DomainID(self.environment, field: "--environment"), strategy: strategy,
                    actor: try DomainID(self.actor, field: "--actor"), reason: self.reason)
                try await runOperation(.startDeployment(deployment), options: self.options, subject: "deployment \(self.id)")
            }
        }
    }

    struct Succeed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a started deployment succeeded.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Deployment id.") var id: String
        @Option(help: "How long it took (default: since it started).") var durationMs: UInt64?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let id = try DomainID(self.id, field: "--id")
                try await runOperation(.succeedDeployment(id, durationMilliseconds: self.durationMs), options: self.options, subject: "deployment \(id)")
            }
        }
    }

    struct Fail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a started deployment failed.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Deployment id.") var id: String
        @Option(help: "Why it failed.") var reason: String

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let id = try DomainID(self.id, field: "--id")
                try await runOperation(.failDeployment(id, reason: self.reason), options: self.options, subject: "deployment \(id)")
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Roll a finished deployment back to an earlier version.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Deployment id.") var id: String
        @Option(help: "The version restored.") var toVersion: String
        @Option(help: "Why.") var reason: String

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let id = try DomainID(self.id, field: "--id")
                try await runOperation(
                    .rollBackDeployment(id, toVersion: self.toVersion, reason: self.reason), options: self.options, subject: "deployment \(id)")
            }
        }
    }

    struct Scale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a change of replicas (0 to 10,000).")
        @OptionGroup var options: CommonOptions
        @Option(help: "Service.") var service: String
        @Option(help: "Environment.") var environment: String
        @Option(help: "Replicas before.") var from: UInt64
        @Option(help: "Replicas after.") var to: UInt64

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let command = OperationsCommand.scaleService(
                    service: try DomainID(self.service, field: "--service"), environment: try DomainID(self.environment, field: "--environment"),
                    from: self.from, to: self.to)
                try await runOperation(command, options: self.options, subject: "service \(self.service)")
            }
        }
    }

    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a config change (digests only, never the values).")
        @OptionGroup var options: CommonOptions
        @Option(help: "Service.") var service: String
        @Option(help: "Environment.") var environment: String
        @Option(help: "The config key.") var key: String
        @Option(help: "The old value (only its SHA-256 is stored).") var oldValue: String?
        @Option(help: "The new value (only its SHA-256 is stored).") var newValue: String?
        @Option(help: "Or the old value's SHA-256, 64 hex digits.") var oldDigest: String?
        @Option(help: "Or the new value's SHA-256, 64 hex digits.") var newDigest: String?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                guard let old = self.oldDigest ?? self.oldValue.map(Ledger.configDigest(of:)),
                    let new = self.newDigest ?? self.newValue.map(Ledger.configDigest(of:))
                else {
                    throw CLIError(code: "invalid_argument", message: "give --old-value and --new-value, or --old-digest and --new-digest")
                }
                let command = OperationsCommand.changeConfig(
                    service: try DomainID(self.service, field: "--service"), environment: try DomainID(self.environment, field: "--environment"),
                    key: self.key, oldDigest: old, newDigest: new)
                try await runOperation(command, options: self.options, subject: "config \(self.key) of \(self.service)")
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a migration applied to a service (once per service).")
        @OptionGroup var options: CommonOptions
        @Option(help: "Service.") var service: String
        @Option(help: "Migration id.") var migration: String

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let command = OperationsCommand.applyMigration(
                    service: try DomainID(self.service, field: "--service"), migration: try DomainID(self.migration, field: "--migration"))
                try await runOperation(command, options: self.options, subject: "migration \(self.migration) of \(self.service)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deployments, newest first.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Only this service's.") var service: String?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let service = try self.service.map { try DomainID($0, field: "--service") }
                try await withLedger(self.options, readOnly: true) { ledger in
                    for deployment in ledger.deployments(service: service) {
                        var object: [String: Any] = [
                            "id": deployment.id.rawValue, "service": deployment.service.rawValue, "version": deployment.version,
                            "environment": deployment.environment.rawValue, "strategy": deployment.strategy.rawValue,
                            "actor": deployment.actor.rawValue, "state": deployment.state.rawValue,
                            "started_at": Output.rfc3339(nanoseconds: deployment.startedAt),
                        ]
                        object["duration_ms"] = deployment.durationMilliseconds
                        object["rolled_back_to"] = deployment.rolledBackTo
                        Output.print(
                            json: self.options.json, object,
                            text: "\(deployment.id)  \(deployment.service) \(deployment.version) → \(deployment.environment)  \(deployment.state.rawValue)"
                                + (deployment.rolledBackTo.map { " (to \($0))" } ?? "") + "  by \(deployment.actor)")
                    }
                }
            }
        }
    }
}

/// Runs one operations command, prints its outcome, exits 1 if it was rejected.
func runOperation(_ command: OperationsCommand, options: CommonOptions, subject: String) async throws {
    try await withLedger(options) { ledger in
        let outcome = try await ledger.execute(command)
        var object: [String: Any] = ["code": outcome.code]
        var text = "\(outcome.code)  \(subject)"
        switch outcome {
        case .applied(let events):
            object["events"] = events.map(\.type)
            text += "  (\(events.map(\.type).joined(separator: ", ")))"
        case .exists:
            text += "  (already recorded; nothing written)"
        case .rejected(let rejection):
            object["message"] = rejection.message
            text += ": \(rejection.message)"
        }
        Output.print(json: options.json, object, text: text)
        if !outcome.succeeded { throw ExitCode(1) }
    }
}
