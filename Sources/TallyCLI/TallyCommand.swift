import ArgumentParser

@main
struct TallyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Tally: an event-sourced, checksummed ledger for fleets of autonomous agents.",
        discussion: """
            Every command works on a data directory (--data, default ./data). Start with:
              tally serve                      the HTTP API on 127.0.0.1:8080
              tally keys create --role admin --name ops      an API key, printed once
              tally init                       create ./data
              tally append --stream health-api --type health.checked \\
                  --payload '{"status":"healthy"}'
              tally read --from-position 1     read the log
              tally verify                     check every checksum, seal and index
              tally accounts open --id treasury --agent ops --currency APX
              tally transfer --id pay-1 --from treasury --to wallet-7 --amount 500 \\
                  --currency APX
              tally deploy start --id api-v42 --service api --version 42 \\
                  --environment prod --actor agent-7
              tally health report --component api --status healthy --latency-ms 12
              tally backup create backups/full-1            a hot backup
              tally restore backups/full-1 --data NEWDIR    a data directory from it
            Every command has --help; `tally serve --help` lists the server's settings.
            """,
        subcommands: [
            InitCommand.self, AppendCommand.self, ReadCommand.self, TailCommand.self, VerifyCommand.self,
            StatsCommand.self, AccountsCommand.self, TransferCommand.self, BalanceCommand.self, StatementCommand.self,
            DeployCommand.self, DeploymentsCommand.self, HealthCommand.self, AuditCommand.self, MetricsCommand.self, ProjectionsCommand.self, ReplayCommand.self,
            BackupCommand.self, RestoreCommand.self, SnapshotCommand.self, CompactCommand.self,
            ServeCommand.self, KeysCommand.self, DemoCommand.self, BenchCommand.self, SoakCommand.self,
        ]
    )
}
