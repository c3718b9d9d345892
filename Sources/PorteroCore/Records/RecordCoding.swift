import PorteroFormat
public import Foundation
import Synchronization

/// How record data is written: snake_case keys (`user_id`, `last_login_ip`) and RFC 3339 UTC times with
/// milliseconds, so `jq` readers see the conventions of the API.
public enum RecordCoding {
    /// A new encoder with the record conventions (change it freely).
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .custom { path in SnakeKey(snakeKeys.converted(path.last?.stringValue ?? "")) }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(UTCTimestamp(date).string)
        }
        return encoder
    }

    /// A new decoder with the record conventions (change it freely).
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in SnakeKey(camelKeys.converted(path.last?.stringValue ?? "")) }
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let stamp = UTCTimestamp(parsing: text) { return stamp.date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time")
        }
        return decoder
    }

    /// One encoder and one decoder for every record the store writes and reads: `JSONEncoder` and `JSONDecoder` are
    /// safe to share as long as nobody changes them, and making them anew cost a share of every durable write.
    static let sharedEncoder = encoder
    static let sharedDecoder = decoder

    /// Converted keys, remembered: the case conversions walk `Character`s and ran for every key of every record
    /// encoded and decoded back on each write. Bounded, since a decoder also meets the keys of imported JSON.
    static let snakeKeys = KeyCache(convert: snakeCase)
    static let camelKeys = KeyCache(convert: camelCase)

    final class KeyCache: Sendable {
        private let convert: @Sendable (String) -> String
        private let known = Mutex<[String: String]>([:])
        static let capacity = 512

        init(convert: @escaping @Sendable (String) -> String) {
            self.convert = convert
        }

        func converted(_ key: String) -> String {
            if let value = known.withLock({ $0[key] }) { return value }
            let value = convert(key)
            known.withLock { known in
                if known.count < Self.capacity { known[key] = value }
            }
            return value
        }
    }

    /// Words written upper-case in Swift property names.
    static let acronyms: [String: String] = [
        "id": "ID", "ids": "IDs", "ip": "IP", "uid": "UID", "pid": "PID",
    ]

    /// `userID` → `user_id`, `lastLoginIP` → `last_login_ip`, `tokensValidAfter` → `tokens_valid_after`.
    static func snakeCase(_ key: String) -> String {
        var words: [String] = []
        var current = ""
        let characters = Array(key)
        for (index, character) in characters.enumerated() {
            if character.isUppercase, !current.isEmpty {
                let previousIsLower = characters[index - 1].isLowercase
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                // "IDs": the trailing lowercase "s" belongs to the acronym.
                let acronymPlural = index + 2 == characters.count && characters[index + 1] == "s"
                if previousIsLower || (nextIsLower && !acronymPlural) {
                    words.append(current)
                    current = ""
                }
            }
            current.append(character)
        }
        if !current.isEmpty { words.append(current) }
        return words.map { $0.lowercased() }.joined(separator: "_")
    }

    /// The inverse of ``snakeCase(_:)`` for the acronyms Portero uses.
    static func camelCase(_ key: String) -> String {
        let words = key.split(separator: "_")
        guard let first = words.first else { return key }
        return String(first)
            + words.dropFirst().map { word in
                acronyms[String(word)] ?? word.prefix(1).uppercased() + word.dropFirst()
            }.joined()
    }

    struct SnakeKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ string: String) {
            self.stringValue = string
            self.intValue = nil
        }
        init?(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) {
            self.stringValue = String(intValue)
            self.intValue = intValue
        }
    }
}
