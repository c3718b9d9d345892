import PorteroFormat
import PorteroCore
import Foundation
import Logging

/// Snapshots: roll the log at a seq S+1 (through the normal commit path, so the new segment starts exactly there),
/// take the durable state as of S, write it compacted on the snapshot queue while commits go on, then prune what it
/// covers.
extension FileStore {
    /// What the snapshot queue did.
    struct SnapshotOutcome: Sendable {
        var compacted: State?
        var error: StoreError?
        var pruneFailures: [String] = []
        var bytes = 0
    }

    /// Takes a snapshot now, unless nothing was written since the last one; returns its seq (0 if there is none).
    ///
    /// Throws ``StoreError`` when the snapshot could not be written (the log goes on, older files are kept) or the
    /// store is unavailable.
    public func snapshot() async throws -> UInt64 {
        if closing {
            throw StoreError.closed()
        }
        return try await takeSnapshot()
    }

    /// Takes a snapshot if ``FileStoreConfiguration/snapshotEveryRecords`` records were written since the last one,
    /// or ``FileStoreConfiguration/snapshotInterval`` passed and anything was written. Failures are logged, and after
    /// one it waits a minute (or the interval, if shorter) before trying again.
    public func snapshotIfDue() async {
        guard failure == nil, !closing, !snapshotInFlight, recordsSinceSnapshot > 0 else { return }
        let current = now()
        if let failed = lastSnapshotFailure,
            current.timeIntervalSince(failed) < min(60, configuration.snapshotIntervalSeconds)
        {
            return
        }
        let elapsed = current.timeIntervalSince(lastSnapshotTime)
        guard
            recordsSinceSnapshot >= configuration.snapshotEveryRecords
                || elapsed >= configuration.snapshotIntervalSeconds
        else { return }
        _ = try? await takeSnapshot()
    }

    func takeSnapshot() async throws -> UInt64 {
        while snapshotInFlight {
            await withCheckedContinuation { snapshotWaiters.append($0) }
        }
        if let failure {
            throw StoreError.unavailable(failure)
        }
        guard recordsSinceSnapshot > 0 else { return lastSnapshotSeq }
        snapshotInFlight = true
        defer {
            snapshotInFlight = false
            let waiters = snapshotWaiters
            snapshotWaiters = []
            for waiter in waiters {
                waiter.resume()
            }
        }
        let started = StoreMetrics.now()
        let marker = nextSeq
        nextSeq += 1
        let at = UTCTimestamp(now())
        try await commit(
            PendingWrite(kind: .roll(seq: marker, at: at), waiter: nil)
        )
        guard let capture = rollCapture, capture.marker == marker else {
            throw StoreError(.io, "snapshot lost track of its roll at seq \(marker)")
        }
        rollCapture = nil
        let seq = marker - 1
        let compactionTime = now()
        let directory = self.directory
        let outcome = await snapshotQueue.run {
            Self.writeSnapshot(capture.state, seq: seq, marker: marker, at: at, now: compactionTime, in: directory)
        }
        if let error = outcome.error {
            recordsSinceSnapshot += capture.recordsBefore
            lastSnapshotFailure = now()
            logger.error(
                "snapshot failed; keeping the log and older snapshots",
                metadata: ["store.directory": "\(directory.path)", "store.seq": "\(seq)", "store.error": "\(error)"]
            )
            throw error
        }
        StoreMetrics.snapshotted(since: started)
        lastSnapshotSeq = seq
        lastSnapshotTime = now()
        lastSnapshotFailure = nil
        for failure in outcome.pruneFailures {
            logger.warning(
                "could not remove a file the snapshot covers",
                metadata: ["store.directory": "\(directory.path)", "store.error": "\(failure)"]
            )
        }
        if let compacted = outcome.compacted, !flushing, lastSeq == marker, nextSeq == marker + 1 {
            state = compacted
            stagedState = compacted
        }
        logger.debug(
            "snapshot written",
            metadata: [
                "store.directory": "\(directory.path)", "store.seq": "\(seq)", "store.bytes": "\(outcome.bytes)",
            ]
        )
        return seq
    }

    /// Compacts, encodes and durably writes `snapshot-<seq>.json`, then removes older snapshots and every segment
    /// that starts before `marker` (all of whose records are at or before `seq`).
    static func writeSnapshot(
        _ state: State,
        seq: UInt64,
        marker: UInt64,
        at: UTCTimestamp,
        now: Date,
        in directory: StoreDirectory
    ) -> SnapshotOutcome {
        var outcome = SnapshotOutcome()
        let compacted = state.compacted(now: now)
        do {
            outcome.bytes = try SnapshotCodec.write(compacted, seq: seq, at: at, in: directory)
        } catch let error as StoreError {
            outcome.error = error
            return outcome
        } catch {
            outcome.error = StoreError(.io, "cannot encode the snapshot (see the cause)", cause: error)
            return outcome
        }
        outcome.compacted = compacted
        do {
            let listing = try directory.list()
            var removed = false
            for old in listing.snapshots where old.seq < seq {
                if let code = POSIXFile.remove(old.path) {
                    outcome.pruneFailures.append("\(old.path): \(POSIXErrorText.describe(code))")
                }
                removed = true
            }
            for old in listing.segments where old.firstSeq < marker {
                if let code = POSIXFile.remove(old.path) {
                    outcome.pruneFailures.append("\(old.path): \(POSIXErrorText.describe(code))")
                }
                removed = true
            }
            if removed, let code = POSIXFile.syncDirectory(directory.path) {
                outcome.pruneFailures.append("fsync of \(directory.path): \(POSIXErrorText.describe(code))")
            }
        } catch {
            outcome.pruneFailures.append("\(error)")
        }
        return outcome
    }
}
