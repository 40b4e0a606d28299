import TallyLog

/// Tells every write model kept beside the log what happened to each batch.
final class DomainListener: CommitListener, Sendable {
    let payments: PaymentsModel
    let operations: OperationsModel

    init(payments: PaymentsModel, operations: OperationsModel) {
        self.payments = payments
        self.operations = operations
    }

    func batchCommitted() {
        self.payments.batchCommitted()
        self.operations.batchCommitted()
    }

    func batchFailed() {
        self.payments.batchFailed()
        self.operations.batchFailed()
    }

    func checkpointSnapshots() -> [StateSnapshot] {
        self.payments.checkpointSnapshots() + self.operations.checkpointSnapshots()
    }
}
