public import Foundation

/// One kind of record the log can hold.
///
/// A record is the unit of change: the store writes it as one line of the log and hands it back, after a restart,
/// through ``init(type:data:)``.
public protocol StoreRecord: Sendable {
    /// The line's `"type"` field, e.g. `"user.registered"`. Never starts with `"store."` (reserved for the engine).
    var type: String { get }

    /// The record's `"data"` as one compact JSON object (UTF-8, no raw newlines).
    func encodeData() throws -> [UInt8]

    /// Rebuilds a record read back from the log; throws for an unknown type or bad data.
    init(type: String, data: [UInt8]) throws
}

/// The whole in-memory state; a value type whose ``apply(_:seq:at:)`` is the only place it changes.
///
/// - Important: `apply` must be deterministic: the store applies each record twice (to the staged state when the
///   transaction appends it, to the durable state once it is on disk) and again on every recovery, always with the
///   same `seq` and `at` (milliseconds since 1970, exactly).
public protocol StoreStateProtocol: Sendable, Codable {
    /// The kind of record this state is built from.
    associatedtype Record: StoreRecord

    /// The empty state of a new store.
    init()

    /// Applies one durable record. Deterministic; must not fail for a record that was valid when appended.
    mutating func apply(_ record: Record, seq: UInt64, at: Date)

    /// The state with everything no longer live dropped (expired codes, spent sessions...), used for snapshots.
    func compacted(now: Date) -> Self

    /// Reads the state from the JSON of a snapshot's `state` (exactly `bytes`) without `JSONDecoder`, for speed; nil
    /// (the default) leaves it to `JSONDecoder`.
    ///
    /// - Important: It must never give a state other than the one ``SnapshotJSON/decode(_:from:)`` gives for the same
    ///   bytes: when in any doubt it throws, and the store decodes with `JSONDecoder` instead, which has the last word.
    static func readSnapshot(_ bytes: ArraySlice<UInt8>) throws(SnapshotJSONReadError) -> Self?

    /// Writes the state's snapshot JSON: exactly the bytes ``SnapshotJSON/encode(_:)`` gives, which the default
    /// writes (in one piece); a state may write them itself, in pieces, so that a large one is never in memory twice.
    func writeSnapshot(to writer: inout SnapshotJSONWriter) throws
}
