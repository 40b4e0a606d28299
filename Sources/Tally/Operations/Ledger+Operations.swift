import TallyChecksum
extension Ledger {
    /// Runs deployment, service and health commands inside one group commit, one outcome each.
    ///
    /// Every event written carries `metadata`; its `actor`, when set, is the actor of record
    /// (otherwise a deployment's deployer is).
    ///
    /// - Throws: ``LogError`` only when the ledger cannot write at all; rejections are outcomes.
    public func execute(_ commands: [OperationsCommand], metadata: EventMetadata = .empty) async throws -> [OperationsOutcome] {
        guard !commands.isEmpty else { return [] }
        let operations = self.operations
        return try await self.log.withinCommit { append in
            operations.execute(commands, now: wallClockNow(), metadata: metadata, append: append)
        }
    }

    /// Runs one operations command.
    public func execute(_ command: OperationsCommand, metadata: EventMetadata = .empty) async throws -> OperationsOutcome {
        let outcomes = try await self.execute([command], metadata: metadata)
        guard let outcome = outcomes.first else { preconditionFailure("one command, one outcome") }
        return outcome
    }

    /// The deployment with this id as of the last durable commit.
    public func deployment(_ id: DomainID) -> Deployment? {
        self.requireWriteModels()
        return self.operations.read { $0.deployments[id] }
    }

    /// Deployments, optionally of one service, newest first.
    public func deployments(service: DomainID? = nil) -> [Deployment] {
        self.requireWriteModels()
        return self.operations.read { state in
            state.deployments.values.filter { service == nil || $0.service == service }.sorted { $0.startedAt > $1.startedAt }
        }
    }

    /// The last health check of every component, by component.
    public func health() -> [HealthCheck] {
        self.requireWriteModels()
        return self.operations.read { $0.health.values.sorted { $0.component < $1.component } }
    }

    /// A copy of the committed operations state.
    public func operationsSnapshot() -> OperationsState {
        self.requireWriteModels()
        return self.operations.read { $0 }
    }
}

extension Ledger {
    /// The SHA-256 of `value` as 64 lowercase hex digits: what `config.changed` records
    /// instead of a configuration value.
    public static func configDigest(of value: String) -> String {
        SHA256Digest.hash(Array(value.utf8)).map { byte in
            let hex = Array("0123456789abcdef")
            return String([hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
        }.joined()
    }
}
