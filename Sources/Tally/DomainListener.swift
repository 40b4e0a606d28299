import TallyLog

/// Tells every write model kept beside the log what happened to each batch.
final class DomainListener: CommitListener, Sendable {
    let payments: PaymentsModel
    let operations: OperationsModel

    init(payments: PaymentsModel, operations: OperationsModel) {
        self.payments = payments
        self.operations = operations
    }

    func batchCommitted(acknowledge: () -> Void) {
        // Operations swaps its state in; payments acknowledges before it merges its batch.
        self.operations.batchCommitted {}
        self.payments.batchCommitted(acknowledge: acknowledge)
    }

    func batchFailed() {
        self.payments.batchFailed()
        self.operations.batchFailed()
    }

    func checkpointSnapshots() -> [StateSnapshot] {
        self.payments.checkpointSnapshots() + self.operations.checkpointSnapshots()
    }
}
