import PorteroFormat
public import Foundation

/// How record data is written: snake_case keys (`user_id`, `last_login_ip`) and RFC 3339 UTC times with
/// milliseconds, so `jq` readers see the conventions of the API.
public enum RecordCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .custom { path in SnakeKey(snakeCase(path.last?.stringValue ?? "")) }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(UTCTimestamp(date).string)
        }
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in SnakeKey(camelCase(path.last?.stringValue ?? "")) }
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let stamp = UTCTimestamp(parsing: text) { return stamp.date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time")
        }
        return decoder
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
