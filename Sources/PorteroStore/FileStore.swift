import PorteroFormat
public import PorteroCore
import Dispatch
import Foundation
import Logging
import Synchronization

/// The real store: an append-only, checksummed JSON-lines log with snapshots, group commit and fail-stop.
///
/// Writers run their transaction against the staged state (durable + queued records), one at a time on the actor;
/// their records then wait for the next flush, which writes everything queued with one `write` and one
/// `fdatasync` on a dedicated dispatch queue. A `write` returns once its records are durable, and only then are they
/// applied to ``state``. See SPEC §4 for the files.
///
/// - Important: Call ``close(snapshot:)`` before dropping the store: it waits for in-flight writes and releases the
///   directory lock. The server should call ``snapshotIfDue()`` every few seconds.
public actor FileStore<State: StoreStateProtocol>: RecordStore {
    /// Tuning of a file store.
    public typealias Configuration = FileStoreConfiguration

    /// Whether a writer, once woken, must flush the next batch itself.
    enum Turn: Sendable {
        case acknowledged
        case lead
    }

    /// Records waiting to be written (or a segment roll), with the writer to wake when they are durable.
    struct PendingWrite {
        enum Kind: Sendable {
            /// A transaction's records; encoded into lines on the I/O queue, off the actor.
            case records([State.Record], firstSeq: UInt64, at: UTCTimestamp)
            /// Start a new segment whose first record, a `store.segment` line, has this seq.
            case roll(seq: UInt64, at: UTCTimestamp)
        }

        let kind: Kind
        var waiter: CheckedContinuation<Turn, any Error>?
    }

    /// The state captured at a roll: exactly the durable state as of the record before the new segment.
    struct RollCapture {
        let marker: UInt64
        let state: State
        let recordsBefore: Int
    }

    let directory: StoreDirectory
    let configuration: Configuration
    let logger: Logger
    let now: @Sendable () -> Date
    /// Runs every write, fdatasync and segment roll of the log, in order.
    let ioQueue: DispatchQueue
    /// Runs snapshot encoding, writing and pruning, so commits are not blocked by them.
    let snapshotQueue: DispatchQueue

    /// The durable state (holds only what is durable). Reading it makes a copy that shares the state's tables:
    /// while any copy lives, the next durable record copies them.
    public internal(set) var state: State {
        get { durable.withLock { $0 } }
        set { durable.replace(with: newValue) }
    }
    /// Owns ``state``: records are applied to it in place on the actor, readers off the actor borrow it
    /// (``withCurrentState(_:)``).
    let durable: Mutex<State>
    /// The seq of the last durable record (engine records included).
    public internal(set) var lastSeq: UInt64
    /// nil while writable; a human reason after fail-stop.
    public internal(set) var failure: String?
    /// How many `fdatasync` calls the log made since open (tests and benchmarks).
    public internal(set) var syncCount = 0
    /// Durable data records written since the last snapshot.
    public internal(set) var recordsSinceSnapshot: Int
    /// The seq of the last snapshot (0 if none).
    public internal(set) var lastSnapshotSeq: UInt64

    /// Durable state plus every queued record: what transactions run against.
    var stagedState: State
    /// The seq the next staged record gets.
    var nextSeq: UInt64

    /// Writes waiting for the next flush; non-empty only while `flushing`.
    var queue: [PendingWrite] = []
    /// The batch being written right now.
    var inFlight: [PendingWrite] = []
    /// True while some writer leads flushes; it stays true until the queue is empty.
    var flushing = false
    /// Woken when flushing stops.
    var idleWaiters: [CheckedContinuation<Void, Never>] = []

    /// The open segment (-1 once closed).
    var segmentFD: Int32
    var segment: StoreDirectory.Segment
    /// The directory lock (-1 once closed).
    var lockFD: Int32

    var snapshotInFlight = false
    var snapshotWaiters: [CheckedContinuation<Void, Never>] = []
    var lastSnapshotTime: Date
    /// When the last snapshot attempt failed (nil after a success): `snapshotIfDue` backs off after a failure.
    var lastSnapshotFailure: Date?
    var rollCapture: RollCapture?

    /// Set when `close` starts: later writes throw at once.
    var closing = false
    var closed = false
    var closeWaiters: [CheckedContinuation<Void, Never>] = []

    init(
        directory: StoreDirectory,
        configuration: Configuration,
        logger: Logger,
        now: @escaping @Sendable () -> Date,
        ioQueue: DispatchQueue,
        recovered: RecoveredStore<State>
    ) {
        self.directory = directory
        self.configuration = configuration
        self.logger = logger
        self.now = now
        self.ioQueue = ioQueue
        self.snapshotQueue = DispatchQueue(label: "portero.store.snapshot")
        self.durable = Mutex(recovered.state)
        self.stagedState = recovered.state
        self.lastSeq = recovered.lastSeq
        self.nextSeq = recovered.lastSeq + 1
        self.recordsSinceSnapshot = recovered.recordsSinceSnapshot
        self.lastSnapshotSeq = recovered.snapshotSeq
        self.segmentFD = recovered.segmentFD
        self.segment = recovered.segment
        self.lockFD = recovered.lockFD
        self.lastSnapshotTime = now()
    }

    public nonisolated func withCurrentState<T: Sendable>(_ body: (State) -> T) -> T {
        durable.withLock { body($0) }
    }

    deinit {
        POSIXFile.close(segmentFD)
        POSIXFile.close(lockFD)
    }

    /// Calls `answered` on the I/O queue once every write, `fdatasync` and roll queued before it has run: proof
    /// for the watchdog that the log writer is not stuck. It never touches the actor or the files.
    public nonisolated func ping(answered: @escaping @Sendable () -> Void) {
        ioQueue.async(execute: answered)
    }

    /// True while writes are accepted (not failed, not closed).
    public var isWritable: Bool {
        failure == nil && !closing
    }

    /// The data directory.
    public nonisolated var path: String {
        directory.path
    }

    /// Runs `body` serialized with every other write, against the staged state, and returns once what it appended
    /// is durable.
    ///
    /// Throws what `body` throws (nothing is written); ``StoreError`` `.invalidRecord` for a record that cannot be
    /// written or read back (nothing is written); ``StoreError`` `.aborted` when a transaction queued ahead of this
    /// one in the same commit had such a record (nothing is written; retrying is safe); or a ``StoreError`` whose
    /// `isUnavailable` is true once the store has failed or is closing. A body that appends nothing returns at once.
    public func write<T: Sendable>(_ body: (inout Transaction<State>) throws -> T) async throws -> T {
        if let failure {
            throw StoreError.unavailable(failure)
        }
        if closing {
            throw StoreError.closed()
        }
        let at = UTCTimestamp(now())
        var transaction = Transaction(state: State(), now: at.date, firstSeq: nextSeq)
        swap(&transaction.state, &stagedState)
        let result: T
        do {
            result = try body(&transaction)
            if transaction.records.isEmpty {
                swap(&transaction.state, &stagedState)
                return result
            }
            for record in transaction.records {
                try RecordEncoding.checkType(record.type)
            }
        } catch {
            if transaction.records.isEmpty {
                swap(&transaction.state, &stagedState)
            } else {
                rebuildStagedState()
            }
            throw error
        }
        swap(&transaction.state, &stagedState)
        nextSeq += UInt64(transaction.records.count)
        let records = transaction.records
        try await commit(PendingWrite(kind: .records(records, firstSeq: transaction.firstSeq, at: at), waiter: nil))
        return result
    }

    /// Recomputes the staged state from the durable one and every record still on its way to disk.
    func rebuildStagedState() {
        var staged = state
        for entry in inFlight + queue {
            if case .records(let records, let firstSeq, let at) = entry.kind {
                for (offset, record) in records.enumerated() {
                    staged.apply(record, seq: firstSeq + UInt64(offset), at: at.date)
                }
            }
        }
        stagedState = staged
    }

    /// Waits for in-flight writes, optionally takes a snapshot, closes the segment and releases the lock.
    ///
    /// Writes that arrive after this starts throw ``StoreError`` (closed). Calling it twice waits for the first.
    public func close(snapshot: Bool) async {
        if closing {
            if !closed {
                await withCheckedContinuation { closeWaiters.append($0) }
            }
            return
        }
        closing = true
        await waitUntilIdle()
        while snapshotInFlight {
            await withCheckedContinuation { snapshotWaiters.append($0) }
        }
        if snapshot, failure == nil {
            _ = try? await takeSnapshot()
        }
        let descriptors = (segmentFD, lockFD)
        segmentFD = -1
        lockFD = -1
        await ioQueue.run {
            POSIXFile.close(descriptors.0)
            POSIXFile.close(descriptors.1)
        }
        closed = true
        logger.debug("store closed", metadata: ["store.directory": "\(directory.path)", "store.seq": "\(lastSeq)"])
        let waiters = closeWaiters
        closeWaiters = []
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Returns once no flush is running or queued.
    func waitUntilIdle() async {
        while flushing {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
    }
}
