public import Foundation
import PorteroFormat

/// The JSON of a snapshot's state as `Codable` reads and writes it: `JSONEncoder` with sorted keys and unescaped
/// slashes; dates as `"2026-11-23T15:30:00.123Z"` when that is exact (every `at` the store hands out is) and as
/// seconds since 2001 otherwise, so a state survives a snapshot bit for bit.
///
/// This is the definition of the format; a state's own ``StoreStateProtocol/readSnapshot(_:)`` and
/// ``StoreStateProtocol/writeSnapshot(to:)`` are faster ways to the same bytes and the same state.
public enum SnapshotJSON {
    /// The state's JSON as `JSONEncoder` writes it.
    public static func encode<State: Encodable>(_ state: State) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            let stamp = UTCTimestamp(date)
            if stamp.date == date {
                try container.encode(stamp.string)
            } else {
                try container.encode(date.timeIntervalSinceReferenceDate)
            }
        }
        return Array(try encoder.encode(state))
    }

    /// The state `JSONDecoder` reads from `bytes`.
    public static func decode<State: Decodable>(_ type: State.Type, from bytes: UnsafeBufferPointer<UInt8>) throws
        -> State
    {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                guard let stamp = UTCTimestamp(parsing: text) else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a UTC timestamp")
                }
                return stamp.date
            }
            return Date(timeIntervalSinceReferenceDate: try container.decode(Double.self))
        }
        return try decoder.decode(type, from: Data(buffer: bytes))
    }
}

extension StoreStateProtocol {
    /// nil: `JSONDecoder` reads the snapshot.
    public static func readSnapshot(_ bytes: ArraySlice<UInt8>) throws(SnapshotJSONReadError) -> Self? {
        nil
    }

    /// Writes what ``SnapshotJSON/encode(_:)`` gives, in one piece.
    public func writeSnapshot(to writer: inout SnapshotJSONWriter) throws {
        writer.raw(try SnapshotJSON.encode(self))
    }
}
