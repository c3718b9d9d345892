public import Foundation
public import PorteroCore
public import PorteroStore

/// A record of the key/value test state.
public enum KeyValueRecord: StoreRecord, Equatable {
    /// Sets `key` to `value`, optionally expiring (dropped at the next compaction after `expiresAt`).
    case put(key: String, value: String, expiresAt: Date? = nil)
    /// Removes `key`.
    case delete(key: String)
    /// A record with any type and data, for testing what the store refuses (`kv.raw` is the only type read back).
    case raw(type: String, data: [UInt8])

    private struct Payload: Codable {
        var key: String
        var value: String?
        var expiresAtMilliseconds: Int64?
    }

    /// An error for data the test state cannot read.
    public struct DecodingFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public var type: String {
        switch self {
        case .put: "kv.put"
        case .delete: "kv.delete"
        case .raw(let type, _): type
        }
    }

    public func encodeData() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch self {
        case .put(let key, let value, let expiresAt):
            let milliseconds = expiresAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
            return Array(try encoder.encode(Payload(key: key, value: value, expiresAtMilliseconds: milliseconds)))
        case .delete(let key):
            return Array(try encoder.encode(Payload(key: key)))
        case .raw(_, let data):
            return data
        }
    }

    public init(type: String, data: [UInt8]) throws {
        switch type {
        case "kv.put":
            let payload = try JSONDecoder().decode(Payload.self, from: Data(data))
            guard let value = payload.value else { throw DecodingFailure(description: "kv.put without a value") }
            self = .put(
                key: payload.key,
                value: value,
                expiresAt: payload.expiresAtMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
            )
        case "kv.delete":
            self = .delete(key: try JSONDecoder().decode(Payload.self, from: Data(data)).key)
        case "kv.raw":
            self = .raw(type: type, data: data)
        default:
            throw DecodingFailure(description: "unknown record type \(type)")
        }
    }
}

/// A small state for store tests: a map of keys to values that remembers the seq and time that set each.
public struct KeyValueState: StoreStateProtocol, Equatable {
    public typealias Record = KeyValueRecord

    /// One value and where it came from.
    public struct Entry: Codable, Equatable, Sendable {
        public var value: String
        public var seq: UInt64
        public var at: Date
        public var expiresAt: Date?
    }

    public private(set) var entries: [String: Entry] = [:]
    /// Records applied since the state was empty (survives snapshots).
    public private(set) var appliedCount = 0
    /// The seq of the last applied record.
    public private(set) var lastAppliedSeq: UInt64 = 0

    public init() {}

    public func value(_ key: String) -> String? {
        entries[key]?.value
    }

    public mutating func apply(_ record: KeyValueRecord, seq: UInt64, at: Date) {
        switch record {
        case .put(let key, let value, let expiresAt):
            entries[key] = Entry(value: value, seq: seq, at: at, expiresAt: expiresAt)
        case .delete(let key):
            entries[key] = nil
        case .raw:
            break
        }
        appliedCount += 1
        lastAppliedSeq = seq
    }

    public func compacted(now: Date) -> KeyValueState {
        var copy = self
        copy.entries = entries.filter { _, entry in entry.expiresAt.map { $0 > now } ?? true }
        return copy
    }
}
