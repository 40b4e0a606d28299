import NIOConcurrencyHelpers
extension Ledger {
    /// Runs payment commands inside one group commit and returns one outcome per command.
    ///
    /// Without `linked`, each command is decided on its own (a rejected one does not stop
    /// the others); with `linked`, all succeed or none is applied (the failing one gets its
    /// code, the others `linked_event_failed`). Rejections are outcomes, not errors.
    ///
    /// Every event written carries `metadata` (the server stamps the caller's key as `actor`).
    ///
    /// - Throws: ``LogError`` only when the ledger cannot write at all (`read_only`,
    ///   `unhealthy`, `closed`, a storage error); then nothing was applied.
    public func execute(_ commands: [PaymentCommand], linked: Bool = false, metadata: EventMetadata = .empty) async throws
        -> [PaymentOutcome]
    {
        guard !commands.isEmpty else { return [] }
        guard !linked else { return try await self.commit(commands, linked: true, metadata: metadata, speculations: nil) }
        // Posted transfers' events are made here, off the log's writer thread: the first ones
        // before the commit, the rest while the writer decides those.
        let (feed, rest) = PaymentsModel.feed(commands, metadata: metadata)
        guard let rest else { return try await self.commit(commands, linked: false, metadata: metadata, speculations: feed) }
        // The child also frees the made events of earlier batches (see `PaymentsModel.retire`).
        let payments = self.payments
        async let made: Void = {
            await rest()
            payments.freeRetired()
        }()
        let outcomes = try await self.commit(commands, linked: false, metadata: metadata, speculations: feed)
        await made
        payments.retire(feed)
        return outcomes
    }

    private func commit(_ commands: [PaymentCommand], linked: Bool, metadata: EventMetadata, speculations: SpeculationFeed?)
        async throws -> [PaymentOutcome]
    {
        let payments = self.payments
        // The command reaches its inputs through a box this task empties once it is resumed:
        // freeing a batch's thousands of requests then happens in the caller's task (its made
        // events: see `PaymentsModel.retire`), not on the log's writer thread (which drops its
        // reference to the command later, when the next batch is taken, and would otherwise
        // often be the last to let go).
        let inputs = NIOLockedValueBox<(commands: [PaymentCommand], speculations: SpeculationFeed?)?>((commands, speculations))
        defer { inputs.withLockedValue { $0 = nil } }
        return try await self.log.withinCommit { append in
            guard let (commands, speculations) = inputs.withLockedValue({ $0 }) else { preconditionFailure("inputs taken before the commit") }
            return payments.execute(
                commands, linked: linked, now: wallClockNow(), metadata: metadata, speculations: speculations, append: append)
        }
    }

    private func one(_ command: PaymentCommand) async throws -> PaymentOutcome {
        let outcomes = try await self.execute([command])
        guard let outcome = outcomes.first else { preconditionFailure("one command, one outcome") }
        return outcome
    }

    /// Opens an account (`account_exists` if the same account is already open).
    public func openAccount(_ account: Account) async throws -> PaymentOutcome {
        try await self.one(.openAccount(account))
    }

    /// Closes an account; it takes no new transfers afterwards.
    public func closeAccount(_ id: DomainID) async throws -> PaymentOutcome {
        try await self.one(.closeAccount(id))
    }

    /// Submits one transfer (posted, or pending when it has a timeout).
    public func submit(_ transfer: TransferRequest) async throws -> PaymentOutcome {
        try await self.one(.transfer(transfer))
    }

    /// Submits transfers, one outcome each; `linked`: all or none.
    public func submit(_ transfers: [TransferRequest], linked: Bool = false) async throws -> [PaymentOutcome] {
        try await self.execute(transfers.map { .transfer($0) }, linked: linked)
    }

    /// Posts a pending transfer: all of it, or `amount` of it (the rest is released).
    public func commitPending(_ id: DomainID, amount: UInt64? = nil) async throws -> PaymentOutcome {
        try await self.one(.commitPending(id, amount: amount))
    }

    /// Releases a pending transfer without posting anything.
    public func voidPending(_ id: DomainID) async throws -> PaymentOutcome {
        try await self.one(.voidPending(id))
    }

    /// Reverses a posted transfer with a compensating transfer `id`: what remains of it, or `amount`.
    public func reverse(_ id: DomainID, of original: DomainID, amount: UInt64? = nil, memo: String? = nil) async throws
        -> PaymentOutcome
    {
        try await self.one(.reverse(id, of: original, amount: amount, memo: memo))
    }

    /// Expires every pending transfer whose timeout has passed; returns how many.
    @discardableResult
    public func expireDuePending() async throws -> Int {
        let outcome = try await self.one(.expireDue)
        if case .applied(let events) = outcome { return events.count }
        return 0
    }

    /// The account with this id as of the last durable commit.
    public func account(_ id: DomainID) -> Account? {
        self.requireWriteModels()
        return self.payments.read { $0.accounts[id] }
    }

    /// The transfer with this id as of the last durable commit.
    public func transfer(_ id: DomainID) -> Transfer? {
        self.requireWriteModels()
        return self.payments.read { $0.transfers[id] }
    }

    /// The accounts of `agent` (all accounts if `nil`), by id.
    public func accounts(agent: DomainID? = nil) -> [Account] {
        self.requireWriteModels()
        return self.payments.read { state in
            guard let agent else { return state.accounts.values.sorted { $0.id < $1.id } }
            return state.accounts(ofAgent: agent)
        }
    }

    /// A copy of the whole committed write model (for checks and tests; large ledgers: use the queries).
    public func paymentsSnapshot() -> PaymentsState {
        self.requireWriteModels()
        return self.payments.read { $0 }
    }
}
