import PorteroFormat
import PorteroCore
import Foundation

/// Snapshot files: the state as JSON inside the checksummed envelope `LogFormat.snapshotFile` writes.
///
/// Dates are written as `"2026-11-23T15:30:00.123Z"` when that is exact (every `at` the store hands out is), and
/// as seconds since 2001 otherwise, so a state survives a snapshot bit for bit.
enum SnapshotCodec {
    /// What reading one snapshot file gave.
    enum Outcome<State: Sendable>: Sendable {
        case valid(State, seq: UInt64)
        /// Unreadable, checksum-failing or undecodable: skipped with a warning.
        case invalid(String)
        /// Intact but in a format this version does not read: start-up refuses.
        case unsupported(format: UInt64)
    }

    static func encode<State: Encodable>(_ state: State) throws -> [UInt8] {
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

    static func decode<State: Decodable>(_ type: State.Type, from bytes: ArraySlice<UInt8>) throws -> State {
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
        return try decoder.decode(type, from: Data(bytes))
    }

    /// Reads, checks and decodes the snapshot at `path`, which its name says holds the state as of `seq`.
    static func load<State: StoreStateProtocol>(_ type: State.Type, path: String, seq: UInt64) -> Outcome<State> {
        let bytes: [UInt8]
        do {
            bytes = try POSIXFile.readFile(path)
        } catch {
            return .invalid("\(error)")
        }
        let header: LogFormat.SnapshotHeader
        switch LogFormat.parseSnapshot(bytes) {
        case .failure(let error): return .invalid(error.reason)
        case .success(let parsed): header = parsed
        }
        guard header.format == LogFormat.version else { return .unsupported(format: header.format) }
        guard header.seq == seq else {
            return .invalid("the file says seq \(header.seq) but its name says \(seq)")
        }
        do {
            return .valid(try decode(type, from: bytes[header.state]), seq: seq)
        } catch {
            return .invalid("the state does not decode (written by another version, or damaged)")
        }
    }

    /// Writes `snapshot-<seq>.json` the durable way: temp file, fsync, rename, directory fsync; the temp file is
    /// removed on failure.
    static func write(_ file: [UInt8], seq: UInt64, in directory: StoreDirectory) throws {
        let path = directory.snapshotPath(seq: seq)
        let temporary = path + ".tmp"
        do {
            try POSIXFile.writeNewFile(temporary, file, what: "snapshot")
            if let code = POSIXFile.rename(temporary, path) {
                throw StoreError.io("cannot rename snapshot to", path: path, errno: code)
            }
            try POSIXFile.syncDirectoryOrThrow(directory.path)
        } catch {
            _ = POSIXFile.remove(temporary)
            throw error
        }
    }
}
