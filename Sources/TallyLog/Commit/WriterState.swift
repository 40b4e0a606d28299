import Foundation
import TallyChecksum

/// The committer's view of the log head. Confined to the writer thread.
final class WriterState: @unchecked Sendable {
    // @unchecked: every property is read and written only on the log's WriterThread
    // (Committer.drain and the indexer run there); EventLog.open fills it before the
    // first job is submitted.
    var nextPosition: UInt64
    var lastChecksum: UInt64
    var lastSeal: SealChain.Seal
    var lastRecordedAt: UInt64
    /// Stream → last version, or `nil` for "known not to exist". Committed facts only.
    var heads: [StreamKey: UInt64?] = [:]
    /// The runs of the persisted `ids` index, oldest first (see ``IDRun``).
    var idRuns: [IDRun] = []
    /// Every event id in the persisted `ids` index (maybe-present answers only).
    var persistedIDs = BloomFilter()
    /// Every stream in the persisted `streams` index, by the XXH3 of its id bytes.
    var persistedStreams = BloomFilter()
    /// What ``Committer/warm(_:)`` read, summed (kept so that the reads are not optimised away).
    var warmed: UInt64 = 0
    /// Reused between batches so the commit path does not allocate per batch.
    var scratchBatchIDs = EventIDTable(minimumCapacity: 4_096)
    var scratchRequestIDs = EventIDTable(minimumCapacity: 4_096)
    var scratchBatchHeads: [StreamKey: UInt64] = [:]
    var scratchWritten: [TailIndex.Entry] = []

    init(nextPosition: UInt64, lastChecksum: UInt64, lastSeal: SealChain.Seal, lastRecordedAt: UInt64) {
        self.nextPosition = nextPosition
        self.lastChecksum = lastChecksum
        self.lastSeal = lastSeal
        self.lastRecordedAt = lastRecordedAt
    }
}

/// What the requests decided so far in one batch changed, before it commits.
struct BatchOverlay {
    var nextPosition: UInt64
    var lastChecksum: UInt64
    var heads: [StreamKey: UInt64] = [:]
    /// Ids written by this batch; taken from and returned to ``WriterState/scratchBatchIDs``.
    var ids = EventIDTable(minimumCapacity: 0)
    /// Events written, in position order, for the tail index after commit.
    var written: [TailIndex.Entry] = []
}
