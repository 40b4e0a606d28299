import NIOConcurrencyHelpers
import Foundation
import Logging
import TallyChecksum
import TallyLMDB

extension Committer {
    /// What deciding one request yielded.
    enum Decision {
        /// Write it; `heads` are the streams' current versions, in request order.
        case accept(heads: [UInt64?])
        /// Write it (one stream); `head` is the stream's current version.
        case acceptOne(head: UInt64?)
        case duplicate(AppendResult)
        case reject(LogError)
    }

    /// What a committed batch owes its callers.
    struct CommittedBatch {
        /// One per request: an append's result (`nil` for a command).
        var outcomes: [Result<AppendResult, LogError>?]
        /// One per request: a command's finisher (`nil` for an append).
        var finishers: [(@Sendable (LogError?) -> Void)?]
        /// The commit's seal (empty when it wrote no event).
        var seal: [UInt8]
    }

    /// Decides, writes and commits one batch, then resumes its callers.
    func process(_ batch: [PendingRequest]) {
        if let failure = self.failureReason {
            for request in batch { request.fail(Self.unhealthy(failure)) }
            return
        }
        let started = ContinuousClock.now
        var overlay = BatchOverlay(nextPosition: self.state.nextPosition, lastChecksum: self.state.lastChecksum)
        // The batch's tables are reused from batch to batch: no growing from empty each time.
        swap(&overlay.ids, &self.state.scratchBatchIDs)
        swap(&overlay.heads, &self.state.scratchBatchHeads)
        swap(&overlay.written, &self.state.scratchWritten)
        defer {
            overlay.ids.removeAll()
            overlay.heads.removeAll(keepingCapacity: true)
            overlay.written.removeAll(keepingCapacity: true)
            swap(&overlay.ids, &self.state.scratchBatchIDs)
            swap(&overlay.heads, &self.state.scratchBatchHeads)
            swap(&overlay.written, &self.state.scratchWritten)
        }
        let recordedAt = max(wallClockNanoseconds(), self.state.lastRecordedAt)
        guard let committed = self.commit(batch, overlay: &overlay, recordedAt: recordedAt) else { return }
        CrashPoint.afterCommit.hit()
        self.metrics.record(batchEvents: overlay.written.count, requests: batch.count, duration: ContinuousClock.now - started)
        let acknowledge = {
            for (index, request) in batch.enumerated() {
                if let finish = committed.finishers[index] {
                    finish(nil)
                    continue
                }
                guard case .append(let pending) = request else { continue }
                switch committed.outcomes[index] {
                case .success(let result): pending.continuation.resume(returning: result)
                case .failure(let error): pending.continuation.resume(throwing: error)
                case nil: preconditionFailure("a request of the batch got no outcome")
                }
            }
        }
        // The listener (the write models) takes its readers' lock, lets the log publish and
        // acknowledge, then applies the batch; so does the log with its tail.
        guard let listener = self.listener else {
            return self.publish(overlay: overlay, seal: committed.seal, recordedAt: recordedAt, acknowledge: acknowledge)
        }
        listener.batchCommitted {
            self.publish(overlay: overlay, seal: committed.seal, recordedAt: recordedAt, acknowledge: acknowledge)
        }
    }

    /// Decides and writes every request of `batch` in one write transaction, then commits it.
    /// `nil` when nothing was committed; then every caller has been failed already.
    private func commit(_ batch: [PendingRequest], overlay batchOverlay: inout BatchOverlay, recordedAt: UInt64) -> CommittedBatch? {
        // Commands append through an escaping closure, which cannot capture an inout: swap in a local.
        var overlay = BatchOverlay(nextPosition: 0, lastChecksum: 0)
        swap(&overlay, &batchOverlay)
        defer { swap(&overlay, &batchOverlay) }
        var committed = CommittedBatch(
            outcomes: .init(repeating: nil, count: batch.count), finishers: .init(repeating: nil, count: batch.count), seal: [])
        let firstPosition = overlay.nextPosition
        var seal = SealChain(previous: self.state.lastSeal, first: firstPosition)
        do {
            // That closure reaches the (noncopyable) transaction through this pointer; deinitialising it aborts.
            let transaction = UnsafeMutablePointer<WriteTransaction>.allocate(capacity: 1)
            transaction.initialize(to: try self.environment.beginWrite())
            var moved = false
            defer {
                if !moved { transaction.deinitialize(count: 1) }
                transaction.deallocate()
            }
            var budget = try self.softLimitBudget()
            var storageError: (any Error)?
            /// Decides and writes one append; a storage error ends the batch. Without `report`
            /// a written append's result is ``AppendResult/unreported`` (no arrays made).
            func decideAndWrite(_ prepared: PreparedAppend, report: Bool) -> Result<AppendResult, LogError> {
                if let storageError { return .failure(self.classify(storageError)) }
                do {
                    switch try self.decide(prepared, txn: &transaction.pointee, overlay: &overlay) {
                    case .reject(let error):
                        return .failure(error)
                    case .duplicate(let result):
                        return .success(result)
                    case .accept(let heads):
                        let estimate = prepared.recordBytes * 2 + 4 * 4_096
                        guard estimate <= budget else { return .failure(self.ledgerFull()) }
                        budget -= estimate
                        return .success(
                            try self.write(
                                prepared, heads: heads, recordedAt: recordedAt, txn: &transaction.pointee, overlay: &overlay,
                                seal: &seal))
                    case .acceptOne(let head):
                        let estimate = prepared.recordBytes * 2 + 4 * 4_096
                        guard estimate <= budget else { return .failure(self.ledgerFull()) }
                        budget -= estimate
                        let context = WriteContext(recordedAt: recordedAt)
                        let written = try self.write(
                            prepared.streams[0], head: head, context: context, txn: &transaction.pointee, overlay: &overlay, seal: &seal)
                        guard report else { return .success(.unreported) }
                        return .success(AppendResult(positions: Array(written.positions), streamVersions: [written.version], wasDuplicate: false))
                    }
                } catch {
                    storageError = error
                    return .failure(self.classify(error))
                }
            }
            for (index, request) in batch.enumerated() {
                switch request {
                case .append(let pending):
                    committed.outcomes[index] = decideAndWrite(pending.prepared, report: true)
                case .command(let command):
                    committed.finishers[index] = command.run(CommitAppend(prepared: decideAndWrite, warm: self.warm))
                }
                if let storageError { throw storageError }
            }
            if overlay.nextPosition > firstPosition {
                committed.seal = try self.writeSeal(
                    seal, first: firstPosition, last: overlay.nextPosition - 1, txn: &transaction.pointee)
            }
            moved = true
            if let failure = self.commitDurably(transaction.move(), first: firstPosition) {
                self.fail(batch, finishers: committed.finishers, with: failure)
                return nil
            }
        } catch {
            // Nothing was committed: the transaction was aborted when it went out of scope.
            self.fail(batch, finishers: committed.finishers, with: self.classify(error))
            return nil
        }
        return committed
    }

    /// Commits (and so syncs) a batch's transaction. A failure may be a failed fsync: it
    /// turns the log unhealthy and is returned as the error for the batch's callers.
    private func commitDurably(_ txn: consuming WriteTransaction, first: UInt64) -> LogError? {
        CrashPoint.beforeCommit.hit()
        do {
            try txn.commit()
            return nil
        } catch {
            let failure = self.commitFailure("commit of positions \(first)...", error)
            self.poison(failure)
            return Self.unhealthy(failure)
        }
    }

    /// Fails every caller of a batch that was not committed: commands through the finishers
    /// they returned (if they ran), appends directly.
    private func fail(_ batch: [PendingRequest], finishers: [(@Sendable (LogError?) -> Void)?], with error: LogError) {
        for (index, request) in batch.enumerated() {
            if let finish = finishers[index] { finish(error) } else if case .append(let append) = request {
                append.continuation.resume(throwing: error)
            }
        }
        self.listener?.batchFailed()
    }

    /// After a durable commit: advances the head, acknowledges the batch's callers, adds the
    /// batch to the tail index and wakes subscribers.
    ///
    /// The head moves and `acknowledge` runs while the tail's lock is held, before the batch
    /// is added: a caller that was resumed (or a subscriber that saw the new head) and reads
    /// at once by stream or event id waits on the lock until the events are in the tail, so
    /// it always reads its own writes; meanwhile a caller prepares its next append while this
    /// thread fills the tail (resuming a continuation only schedules its task, never runs it
    /// here).
    private func publish(overlay: BatchOverlay, seal: [UInt8], recordedAt: UInt64, acknowledge: () -> Void) {
        guard !overlay.written.isEmpty else {
            acknowledge()
            return
        }
        precondition(overlay.written.last?.position == overlay.nextPosition - 1, "written events and head disagree")
        self.state.nextPosition = overlay.nextPosition
        self.state.lastChecksum = overlay.lastChecksum
        self.state.lastSeal = seal
        self.state.lastRecordedAt = recordedAt
        // The tail now holds these streams' heads and is asked before the cache; drop cached
        // entries so none is stale once the indexer moves the stream out of the tail.
        // (Through the smaller of the two: the cache holds only streams found in the persisted
        // index, often a handful, while a batch of transfers writes thousands of new streams.)
        if self.state.heads.count > overlay.heads.count {
            for stream in overlay.heads.keys { self.state.heads.removeValue(forKey: stream) }
        } else if !self.state.heads.isEmpty {
            let stale = self.state.heads.keys.filter { overlay.heads[$0] != nil }
            for stream in stale { self.state.heads.removeValue(forKey: stream) }
        }
        self.tail.withLockedValue { tail in
            // The head moves first: whoever sees it (a caller, a subscriber) and then reads the
            // tail waits on this lock until the batch is in.
            self.notifier.publish(head: overlay.nextPosition - 1)
            acknowledge()
            // One run per stream segment: the tail hashes each stream id once per run.
            var runStart = overlay.written.startIndex
            for index in overlay.written.indices.dropFirst()
            where overlay.written[index].stream != overlay.written[index - 1].stream {
                tail.add(overlay.written[runStart..<index])
                runStart = index
            }
            tail.add(overlay.written[runStart...])
        }
    }

    private func softLimitBudget() throws(LMDBError) -> Int {
        let info = try self.environment.info()
        let soft = info.mapSizeBytes / 100 * Limits.mapSoftLimitPercent
        return max(0, soft - info.usedBytes)
    }

    func ledgerFull() -> LogError {
        let size = self.environment.configuration.mapSizeBytes
        return LogError(
            .ledgerFull,
            "the log reached its soft limit (\(Limits.mapSoftLimitPercent)% of the \(size >> 20) MiB map); "
                + "reads still work; reopen with a larger map (`--map-size`, e.g. \(size >> 29 + 1) GiB) to append again")
    }

    func classify(_ error: any Error) -> LogError {
        if let error = error as? LogError { return error }
        if let error = error as? LMDBError, error.code == .mapFull { return self.ledgerFull() }
        return LogError(.storage, "the batch was not written: \(error)", cause: error as? LMDBError)
    }

    /// What every record of a batch shares.
    struct WriteContext {
        let recordedAt: UInt64
    }

    /// Writes the records of an accepted request with MDB_APPEND and returns its result.
    private func write(
        _ pending: PreparedAppend,
        heads: [UInt64?],
        recordedAt: UInt64,
        txn: inout WriteTransaction,
        overlay: inout BatchOverlay,
        seal: inout SealChain
    ) throws -> AppendResult {
        var positions: [UInt64] = []
        positions.reserveCapacity(pending.eventCount)
        var versions: [UInt64] = []
        versions.reserveCapacity(pending.streams.count)
        precondition(heads.count == pending.streams.count, "one head per stream")
        let context = WriteContext(recordedAt: recordedAt)
        for (stream, head) in zip(pending.streams, heads) {
            let written = try self.write(stream, head: head, context: context, txn: &txn, overlay: &overlay, seal: &seal)
            positions.append(contentsOf: written.positions)
            versions.append(written.version)
        }
        return AppendResult(positions: positions, streamVersions: versions, wasDuplicate: false)
    }

    /// Writes one stream's records after its `head`; returns their positions and the stream's new version.
    private func write(
        _ stream: PreparedStream, head: UInt64?, context: WriteContext, txn: inout WriteTransaction, overlay: inout BatchOverlay,
        seal: inout SealChain
    ) throws -> (positions: ClosedRange<UInt64>, version: UInt64) {
        let first = overlay.nextPosition
        var version = head.map { $0 + 1 } ?? 0
        // By index: `for event in` copies each event (half a dozen references retained).
        for index in stream.events.indices {
            let position = overlay.nextPosition
            let size = stream.events[index].recordBytes(streamIDBytes: stream.streamBytes.count)
            var checksum: UInt64 = 0
            let previous = overlay.lastChecksum
            try Keys.withPosition(position) { key in
                try txn.putReserving(self.databases.log, key: key, size: size, flags: .append) { target in
                    checksum = RecordEncoder.encode(
                        into: target, position: position, streamVersion: version, recordedAt: context.recordedAt,
                        streamID: stream.streamBytes, event: stream.events[index], previousChecksum: previous)
                    seal.add(UnsafeRawBufferPointer(target))
                }
            }
            overlay.lastChecksum = checksum
            let key = stream.events[index].key
            overlay.ids.insert(key, position: position)
            overlay.written.append(TailIndex.Entry(position: position, stream: stream.key, version: version, key: key))
            overlay.nextPosition = position + 1
            version += 1
        }
        overlay.heads[stream.key] = version - 1
        return (first...(overlay.nextPosition - 1), version - 1)
    }

    private func writeSeal(_ seal: consuming SealChain, first: UInt64, last: UInt64, txn: inout WriteTransaction) throws -> [UInt8] {
        let digest = seal.finish()
        var value = Keys.littleEndian(first)
        value.append(contentsOf: digest)
        try Keys.withPosition(last) { key in
            try value.withUnsafeBytes { bytes in
                try txn.put(self.databases.seals, key: key, value: bytes, flags: .append)
            }
        }
        return digest
    }
}

/// Nanoseconds since 1970-01-01 UTC.
func wallClockNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
