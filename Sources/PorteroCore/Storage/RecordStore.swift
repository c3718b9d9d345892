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

    /// The seq of the last durable record.
    var lastSeq: UInt64 { get }

    /// nil while writable; a human reason after fail-stop.
    var failure: String? { get }

    /// Writes the compacted state as a snapshot now; returns the seq it covers.
    func snapshot() async throws -> UInt64
}
