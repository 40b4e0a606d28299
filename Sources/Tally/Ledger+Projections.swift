@_exported public import TallyProjections

extension Ledger {
    /// The built-in projections, in the order their workers start.
    public static var builtInProjections: [any Projection] { [BalancesProjection(), HealthProjection(), DeploymentsProjection(), AuditProjection(), MetricsProjection()] }

    /// Opens `<data>/views` of this ledger and brings every built-in projection up to the
    /// current head (for one-shot queries; a server runs the workers continuously).
    ///
    /// - Parameter progress: positions applied over all projections, and the total to apply
    ///   (the head times the number of projections).
    /// - Returns: the views (close them when done) and each projection's status.
    public func catchUpProjections(progress: (UInt64, UInt64) -> Void = { _, _ in }) async throws -> (views: ViewStore, status: [ProjectionStatus]) {
        let views = try ViewStore.open(dataDirectory: self.log.directory, projections: Self.builtInProjections)
        do {
            var status: [ProjectionStatus] = []
            let head = self.log.headPosition
            let total = head * UInt64(Self.builtInProjections.count)
            for (index, projection) in Self.builtInProjections.enumerated() {
                let worker = try ProjectionWorker(projection: projection, log: self.log, views: views)
                let before = UInt64(index) * head
                try await worker.catchUp { position in progress(before + min(position, head), total) }
                status.append(worker.status)
            }
            return (views, status)
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
