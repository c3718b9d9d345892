public import Foundation

/// What a write closure sees: the staged state (durable + queued + this transaction's own records).
///
/// Appending a record applies it to ``state`` at once, so the rest of the closure sees it; the records are written
/// only if the closure returns normally.
public struct Transaction<State: StoreStateProtocol> {
    /// The staged state, including every record appended so far in this transaction.
    public package(set) var state: State

    /// The transaction's time, truncated to the millisecond; every record it appends carries it as `at`.
    public let now: Date

    /// The seq of the first record this transaction appends.
    package let firstSeq: UInt64

    /// The records appended so far, in order.
    package private(set) var records: [State.Record] = []

    package init(state: State, now: Date, firstSeq: UInt64) {
        self.state = state
        self.now = now
        self.firstSeq = firstSeq
    }

    /// The seq the next appended record will get.
    public var nextSeq: UInt64 {
        firstSeq + UInt64(records.count)
    }

    /// How many records this transaction has appended.
    public var appendedCount: Int {
        records.count
    }

    /// Appends `record` to the transaction and applies it to ``state``.
    public mutating func append(_ record: State.Record) {
        state.apply(record, seq: nextSeq, at: now)
        records.append(record)
    }
}
