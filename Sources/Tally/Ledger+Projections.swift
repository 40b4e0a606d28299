@_exported public import TallyProjections

extension Ledger {
    /// The built-in projections, in the order their workers start.
    public static var builtInProjections: [any Projection] { [BalancesProjection(), HealthProjection(), DeploymentsProjection(), AuditProjection(), MetricsProjection()] }

    /// Opens `<data>/views` of this ledger and brings every built-in projection up to the
    /// current head, reading the log once for all (for one-shot queries and replays; a
    /// server runs the workers continuously).
    ///
    /// - Parameter progress: positions applied over all projections, and the total to apply
    ///   (the head times the number of projections).
    /// - Returns: the views (close them when done) and each projection's status.
    public func catchUpProjections(progress: (UInt64, UInt64) -> Void = { _, _ in }) async throws -> (views: ViewStore, status: [ProjectionStatus]) {
        let views = try ViewStore.open(dataDirectory: self.log.directory, projections: Self.builtInProjections)
        do {
            let head = self.log.headPosition
            let workers = try Self.builtInProjections.map { try ProjectionWorker(projection: $0, log: self.log, views: views) }
            let count = UInt64(workers.count)
            try await ProjectionWorker.catchUp(workers) { position in progress(min(position, head) * count, head * count) }
            return (views, workers.map(\.status))
        } catch {
            views.close()
            throw error
        }
    }

    /// Rebuilds the built-in projection `name` from position 1 and returns its status.
    public func replayProjection(named name: String) async throws -> ProjectionStatus {
        guard let projection = Self.builtInProjections.first(where: { $0.name == name }) else {
            throw LogError(
                .invalidArgument,
                "no projection is named \(name); the projections are \(Self.builtInProjections.map(\.name).joined(separator: ", "))")
        }
        let views = try ViewStore.open(dataDirectory: self.log.directory, projections: Self.builtInProjections)
        defer { views.close() }
        let worker = try ProjectionWorker(projection: projection, log: self.log, views: views)
        try await worker.reset()
        try await worker.catchUp()
        return worker.status
    }
}
