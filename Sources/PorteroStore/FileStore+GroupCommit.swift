import PorteroFormat
import PorteroCore
import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// The processor count, asked once: Foundation reads it from the cgroup files on every call, and group commit would ask
/// on every flush.
private let processorCount = ProcessInfo.processInfo.activeProcessorCount

/// Group commit: whoever finds no flush running leads one. The leader takes every queued write and has the I/O
/// queue encode them and write them with one `write` and one `fdatasync`; back on the actor it applies them to the
/// durable state, wakes their writers, and hands the lead to the first writer that queued meanwhile. Nobody spins
/// and nothing runs unstructured.
extension FileStore {
    /// One step of a flush, run in order on the I/O queue.
    enum FlushStep: Sendable {
        /// Append these bytes to the current segment.
        case append([UInt8])
        /// Make the current segment durable, close it, and create `segment` (directory fsynced) to append to.
        case roll(StoreDirectory.Segment)
    }

    /// What the I/O queue did with a batch.
    struct FlushOutcome: Sendable {
        var fd: Int32
        var segment: StoreDirectory.Segment
        var syncs = 0
        /// Set when the write or fdatasync failed: the store fails.
        var failure: String?
        /// The index of the first entry whose records could not be encoded; it and everything after it were not
        /// written (the entries before it were).
        var rejected: (index: Int, error: StoreError)?
    }

    /// Queues `entry` and returns once it is durable; throws ``StoreError`` if it was not written.
    func commit(_ entry: PendingWrite) async throws {
        if !flushing {
            flushing = true
            queue.append(entry)
            try await lead()
            return
        }
        let turn = try await withCheckedThrowingContinuation { continuation in
            var waiting = entry
            waiting.waiter = continuation
            queue.append(waiting)
        }
        if case .lead = turn {
            try await lead()
        }
    }

    /// Flushes the queue (whose first entry is the leader's own) and passes the lead on.
    private func lead() async throws {
        var batch: [PendingWrite]
        if configuration.groupCommit {
            batch = queue
            queue = []
        } else {
            batch = [queue.removeFirst()]
        }
        inFlight = batch
        StoreMetrics.flushed(transactions: batch.count)
        let kinds = batch.map(\.kind)
        let fd = segmentFD
        let segment = self.segment
        let directory = self.directory
        let outcome = await ioQueue.run { Self.perform(kinds, fd: fd, segment: segment, directory: directory) }
        inFlight = []
        syncCount += outcome.syncs
        segmentFD = outcome.fd
        self.segment = outcome.segment
        if let reason = outcome.failure {
            failStop(reason, batch: batch)
            throw StoreError.unavailable(reason)
        }
        var rejectedEntries: ArraySlice<PendingWrite> = []
        if let rejected = outcome.rejected {
            rejectedEntries = batch[rejected.index...]
            batch.removeSubrange(rejected.index...)
        }
        for entry in batch {
            applyDurable(entry)
        }
        for entry in batch {
            entry.waiter?.resume(returning: .acknowledged)
        }
        if let rejected = outcome.rejected {
            abort(rejectedEntries, because: rejected.error)
            if rejected.index == 0 {
                throw rejected.error
            }
            return
        }
        if queue.isEmpty {
            stopFlushing()
        } else {
            let next = queue[0].waiter
            queue[0].waiter = nil
            next?.resume(returning: .lead)
        }
    }

    /// Applies a durable entry to `state`; a roll captures the state as of the record before it.
    private func applyDurable(_ entry: PendingWrite) {
        switch entry.kind {
        case .records(let records, let firstSeq, let at):
            // In place: the lock owns the only reference, so no table is copied.
            durable.withLock { state in
                for (offset, record) in records.enumerated() {
                    state.apply(record, seq: firstSeq + UInt64(offset), at: at.date)
                }
            }
            lastSeq = firstSeq + UInt64(records.count) - 1
            recordsSinceSnapshot += records.count
        case .roll(let seq, _):
            rollCapture = RollCapture(marker: seq, state: state, recordsBefore: recordsSinceSnapshot)
            recordsSinceSnapshot = 0
            lastSeq = seq
        }
    }

    /// Drops an entry whose records could not be encoded, and everything staged after it (which may have seen its
    /// records); the store goes on from the durable state.
    private func abort(_ rejected: ArraySlice<PendingWrite>, because error: StoreError) {
        logger.error(
            "a record could not be written; it and the transactions queued after it were refused",
            metadata: [
                "store.directory": "\(directory.path)",
                "store.error": "\(error.message)",
                "store.refused": "\(rejected.count - 1 + queue.count)",
            ]
        )
        let aborted = StoreError(
            .aborted,
            "transaction not written: one queued ahead of it had a record that cannot be written (\(error.message))"
        )
        for (offset, entry) in rejected.enumerated() {
            entry.waiter?.resume(throwing: offset == 0 ? error : aborted)
        }
        for entry in queue {
            entry.waiter?.resume(throwing: aborted)
        }
        queue = []
        stagedState = state
        nextSeq = lastSeq + 1
        stopFlushing()
    }

    /// Fail-stop: no more writes, ever, on this store; every waiting writer learns it; reads go on.
    private func failStop(_ reason: String, batch: [PendingWrite]) {
        failure = reason
        logger.critical(
            "store failed: no longer accepting writes",
            metadata: [
                "store.directory": "\(directory.path)",
                "store.file": "\(segment.path)",
                "store.error": "\(reason)",
                "store.seq": "\(lastSeq)",
            ]
        )
        let error = StoreError.unavailable(reason)
        for entry in batch + queue {
            entry.waiter?.resume(throwing: error)
        }
        queue = []
        stagedState = state
        nextSeq = lastSeq + 1
        stopFlushing()
    }

    private func stopFlushing() {
        flushing = false
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Runs a batch on the I/O queue: encodes its lines, then writes and syncs them. An entry that cannot be encoded
    /// ends the batch before it (nothing from it on is written). A failed or short write, or a failed fdatasync,
    /// stops it: the caller fail-stops and this file descriptor is never written or synced again.
    static func perform(
        _ batch: [PendingWrite.Kind],
        fd: Int32,
        segment: StoreDirectory.Segment,
        directory: StoreDirectory
    ) -> FlushOutcome {
        var outcome = FlushOutcome(fd: fd, segment: segment)
        let encoded = encode(batch)
        var steps: [FlushStep] = []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encoded.reduce(0) { $0 + ((try? $1.get())?.count ?? 0) })
        encoding: for (index, kind) in batch.enumerated() {
            switch (kind, encoded[index]) {
            case (.roll(let seq, _), .success(let line)):
                steps.append(.append(bytes))
                steps.append(.roll(StoreDirectory.Segment(firstSeq: seq, path: directory.segmentPath(firstSeq: seq))))
                bytes = line
            case (.records, .success(let lines)):
                bytes.append(contentsOf: lines)
            case (_, .failure(let error)):
                outcome.rejected = (index, error)
                break encoding
            }
        }
        steps.append(.append(bytes))
        execute(steps, directory: directory, outcome: &outcome)
        return outcome
    }

    /// The lines of each entry of a batch; large batches are encoded on all cores (records are encoded, checked and
    /// decoded back, which costs more than writing them).
    private static func encode(_ batch: [PendingWrite.Kind]) -> [Result<[UInt8], StoreError>] {
        let chunks = min(batch.count / 8, processorCount)
        guard chunks > 1 else { return batch.map(lines) }
        let collected = Mutex<[Result<[UInt8], StoreError>]>(Array(repeating: .success([]), count: batch.count))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let mine = stride(from: chunk, to: batch.count, by: chunks).map { ($0, lines(batch[$0])) }
            collected.withLock { results in
                for (index, result) in mine {
                    results[index] = result
                }
            }
        }
        return collected.withLock { $0 }
    }

    private static func lines(_ kind: PendingWrite.Kind) -> Result<[UInt8], StoreError> {
        switch kind {
        case .roll(let seq, let at):
            return .success(LogFormat.segmentLine(seq: seq, at: at))
        case .records(let records, let firstSeq, let at):
            var out: [UInt8] = []
            do {
                try RecordEncoding.appendLines(records, firstSeq: firstSeq, at: at, to: &out)
                return .success(out)
            } catch let error as StoreError {
                return .failure(error)
            } catch {
                return .failure(StoreError(.invalidRecord, "record could not be encoded (see the cause)", cause: error))
            }
        }
    }

    /// `fdatasync`, timed into ``StoreMetrics/fsync``; answers the errno of a failure.
    private static func timedDataSync(_ fd: Int32) -> POSIXFile.Failure {
        let start = StoreMetrics.now()
        defer { StoreMetrics.fsynced(since: start) }
        return POSIXFile.dataSync(fd)
    }

    private static func execute(_ steps: [FlushStep], directory: StoreDirectory, outcome: inout FlushOutcome) {
        var unsynced = false
        for step in steps {
            switch step {
            case .append(let bytes):
                if bytes.isEmpty { continue }
                if let reason = POSIXFile.writeOnce(outcome.fd, bytes) {
                    outcome.failure = "write to \(outcome.segment.path) failed: \(reason)"
                    return
                }
                unsynced = true
            case .roll(let next):
                if unsynced {
                    if let code = timedDataSync(outcome.fd) {
                        outcome.failure =
                            "fdatasync of \(outcome.segment.path) failed: \(POSIXErrorText.describe(code))"
                        return
                    }
                    outcome.syncs += 1
                    unsynced = false
                }
                let (newFD, code) = POSIXFile.open(next.path, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND)
                guard newFD >= 0 else {
                    outcome.failure = "cannot create segment \(next.path): \(POSIXErrorText.describe(code))"
                    return
                }
                POSIXFile.close(outcome.fd)
                outcome.fd = newFD
                outcome.segment = next
                if fchmod(newFD, 0o600) != 0 {
                    outcome.failure = "cannot set mode 0600 on \(next.path): \(POSIXErrorText.describe(errno))"
                    return
                }
                if let code = POSIXFile.syncDirectory(directory.path) {
                    outcome.failure = "fsync of directory \(directory.path) failed: \(POSIXErrorText.describe(code))"
                    return
                }
            }
        }
        if unsynced {
            if let code = timedDataSync(outcome.fd) {
                outcome.failure = "fdatasync of \(outcome.segment.path) failed: \(POSIXErrorText.describe(code))"
                return
            }
            outcome.syncs += 1
        }
    }
}
