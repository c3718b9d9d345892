import PorteroFormat
public import PorteroCore
public import Foundation
import Synchronization

/// A store that keeps everything in memory: the same contract as ``FileStore`` without files, for fast tests of
/// the code built on a ``RecordStore``.
///
/// Records are checked exactly as the file store checks them (reserved types, compact JSON that decodes back), and
/// ``fail(reason:)`` puts it in the fail-stop state so callers' handling of an unavailable store can be tested.
public actor MemoryStore<State: StoreStateProtocol>: RecordStore {
    /// The durable state (here: every acknowledged record).
    public private(set) var state: State {
        get { durable.withLock { $0 } }
        set { durable.replace(with: newValue) }
    }
    private let durable: Mutex<State>

    public nonisolated func withCurrentState<T: Sendable>(_ body: (State) -> T) -> T {
        durable.withLock { body($0) }
    }
    /// The seq of the last record.
    public private(set) var lastSeq: UInt64 = 0
    /// nil while writable; the reason given to ``fail(reason:)`` after.
    public private(set) var failure: String?
    /// Every acknowledged record, in order (a test's view of the log; a snapshot does not drop them).
    public private(set) var records: [State.Record] = []
    /// Records written since the last ``snapshot()``.
    public private(set) var recordsSinceSnapshot = 0
    private var closed = false
    private let now: @Sendable () -> Date

    /// A store holding `state`, whose transactions run at `now()` (truncated to the millisecond).
    public init(state: State = State(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.durable = Mutex(state)
        self.now = now
    }

    /// True while writes are accepted.
    public var isWritable: Bool {
        failure == nil && !closed
    }

    /// Runs `body` against the state and keeps what it appended; see ``RecordStore/write(_:)``.
    public func write<T: Sendable>(_ body: (inout Transaction<State>) throws -> T) async throws -> T {
        if let failure {
            throw StoreError.unavailable(failure)
        }
        if closed {
            throw StoreError.closed()
        }
        let at = UTCTimestamp(now())
        var transaction = Transaction(state: state, now: at.date, firstSeq: lastSeq + 1)
        let result = try body(&transaction)
        if transaction.records.isEmpty {
            return result
        }
        for record in transaction.records {
            _ = try RecordEncoding.validatedData(record)
        }
        state = transaction.state
        records.append(contentsOf: transaction.records)
        lastSeq += UInt64(transaction.records.count)
        recordsSinceSnapshot += transaction.records.count
        return result
    }

    /// Replaces the state with its compacted form, as a file store's snapshot and restart would; returns `lastSeq`.
    public func snapshot() async throws -> UInt64 {
        if let failure {
            throw StoreError.unavailable(failure)
        }
        state = state.compacted(now: now())
        recordsSinceSnapshot = 0
        return lastSeq
    }

    /// Does nothing: a memory store has nothing to make durable.
    public func snapshotIfDue() async {}

    /// Refuses further writes.
    public func close(snapshot: Bool) async {
        if snapshot, failure == nil {
            state = state.compacted(now: now())
        }
        closed = true
    }

    /// Simulates fail-stop: every later write throws ``StoreError`` unavailable; reads go on.
    public func fail(reason: String) {
        if failure == nil {
            failure = reason
        }
    }
}
