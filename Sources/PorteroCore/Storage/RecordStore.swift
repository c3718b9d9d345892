/// The port the use cases write through: an append-only store of records and the state they build.
///
/// PorteroStore implements it (`FileStore`, `MemoryStore`); the conformance suite runs against every implementation.
public protocol RecordStore<State>: Actor {
    /// The state the store holds.
    associatedtype State: StoreStateProtocol

    /// Runs `body` serialized with every other write, against the staged state; appends what it appended.
    ///
    /// Returns only after those records are durable (fsync). Throws what `body` throws (nothing written), or the
    /// implementation's own error (PorteroStore's `StoreError`) when the store has failed or is closed, when a record cannot be written or read
    /// back, or when a transaction queued ahead of this one in the same commit had such a record (retrying is safe).
    /// A body that appends nothing returns at once.
    func write<T: Sendable>(_ body: (inout Transaction<State>) throws -> T) async throws -> T

    /// The durable state (holds only what is durable).
    var state: State { get }

    /// Runs `body` on what ``state`` holds at this moment, without a hop onto the store's actor: token checks read
    /// the state on every request and must not queue behind writes. A write that has returned is already in it.
    ///
    /// `body` runs under a lock that the store also takes to apply each durable record, so it must be short: a few
    /// lookups. It gets the state itself, not a copy to keep: a copy kept past the call would make the next record
    /// copy every table of the state.
    nonisolated func withCurrentState<T: Sendable>(_ body: (State) -> T) -> T

    /// The seq of the last durable record.
    var lastSeq: UInt64 { get }

    /// nil while writable; a human reason after fail-stop.
    var failure: String? { get }

    /// Writes the compacted state as a snapshot now; returns the seq it covers.
    func snapshot() async throws -> UInt64
}
