/// Storage a controller can be generic over; the conformance suite runs against every implementation.
public protocol RecordStore<State>: Actor {
    /// The state the store holds.
    associatedtype State: StoreStateProtocol

    /// Runs `body` serialized with every other write, against the staged state; appends what it appended.
    ///
    /// Returns only after those records are durable (fsync). Throws what `body` throws (nothing written), or a
    /// ``StoreError``: `isUnavailable` when the store has failed or is closed; `.invalidRecord` for a record that
    /// cannot be written or read back; `.aborted` (file store only) when a transaction queued ahead of this one in the
    /// same commit had such a record (retrying is safe). A body that appends nothing returns at once.
    func write<T: Sendable>(_ body: (inout Transaction<State>) throws -> T) async throws -> T

    /// The durable state (holds only what is durable).
    var state: State { get }

    /// The seq of the last durable record.
    var lastSeq: UInt64 { get }

    /// nil while writable; a human reason after fail-stop.
    var failure: String? { get }
}
