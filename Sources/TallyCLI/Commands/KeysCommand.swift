import ArgumentParser
import Foundation
import Tally
import TallyServer

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke the HTTP API's keys (recorded as events in the log).",
        discussion: """
              tally keys create --role admin --name ops-admin     prints the key once
              tally keys list
              tally keys revoke KEY_ID_OR_NAME
            Roles: reader (queries, subscribe), writer (reader + appends and commands),
            auditor (reader + audit exports), admin (everything). Only a hash of each key
            is kept. These work on a stopped server (the data directory is locked while it
            runs); a running server takes the same commands on POST /v1/admin/keys and
            DELETE /v1/admin/keys/{id}.
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    /// Who the CLI records as the actor of key changes.
    static var actor: String { "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown") }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (only now; it is not stored).")
        @OptionGroup var options: CommonOptions
        @Option(help: "reader, writer, auditor or admin.") var role: String
        @Option(help: "The key's name: the actor of every event it appends (letters, digits, . _ : -).") var name: String
        @Option(help: "Write the key to this file (mode 0600) instead of printing it.") var output: String?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                guard let role = Role(rawValue: self.role) else {
                    throw CLIError(code: "invalid_argument", message: "--role must be reader, writer, auditor or admin, not \(self.role)")
                }
                try await withLedger(self.options, create: true) { ledger in
                    let store = try KeyStore(log: ledger.log)
                    let (key, secret) = try await store.create(name: self.name, role: role, in: ledger, actor: KeysCommand.actor)
                    if let output = self.output {
                        guard FileManager.default.createFile(atPath: output, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
                        else { throw CLIError(code: "invalid_argument", message: "cannot write \(output)") }
                    }
                    let signing = try RequestSigning(dataDirectory: self.options.data).secret(forKey: key.id)
                    if let output = self.output {
                        guard FileManager.default.createFile(atPath: output + ".signing", contents: Data((signing + "\n").utf8), attributes: [.posixPermissions: 0o600])
                        else { throw CLIError(code: "invalid_argument", message: "cannot write \(output).signing") }
                    }
                    let object: [String: Any] = [
                        "id": key.id, "name": key.name, "role": key.role.rawValue, "key": self.output == nil ? secret : "written to \(self.output ?? "")",
                        "signing_secret": self.output == nil ? signing : "written to \(self.output ?? "").signing",
                    ]
                    Output.print(
                        json: self.options.json, object,
                        text: self.output == nil
                            ? "\(secret)\nkey \(key.id) (\(key.name), \(key.role.rawValue)): shown once; keep it secret\nsigning secret (HMAC request signing, optional): \(signing)"
                            : "key \(key.id) (\(key.name), \(key.role.rawValue)) written to \(self.output ?? ""), its signing secret to \(self.output ?? "").signing")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await runReporting(json: self.options.json) {
                try await withLedger(self.options, readOnly: true) { ledger in
                    for key in try KeyStore(log: ledger.log).all {
                        let object: [String: Any] = [
                            "id": key.id, "name": key.name, "role": key.role.rawValue, "revoked": key.revoked,
                            "created_at": Output.rfc3339(nanoseconds: key.createdAt),
                        ]
                        Output.print(
                            json: self.options.json, object,
                            text: "\(key.id)  \(key.name)  \(key.role.rawValue)\(key.revoked ? "  revoked" : "")  \(Output.rfc3339(nanoseconds: key.createdAt))")
                    }
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id or name; requests with it get 401 from then on.")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The key's id or name.") var key: String

        func run() async throws {
            try await runReporting(json: self.options.json) {
                try await withLedger(self.options) { ledger in
                    let revoked = try await KeyStore(log: ledger.log).revoke(self.key, in: ledger, actor: KeysCommand.actor)
                    Output.print(
                        json: self.options.json, ["id": revoked.id, "name": revoked.name, "revoked": true],
                        text: "revoked \(revoked.id) (\(revoked.name))")
                }
            }
        }
    }
}
