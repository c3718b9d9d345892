import Configuration
import Foundation
import PorteroCore

/// Reads one key at a time from a `ConfigReader` and checks it; every failure is one ``ConfigurationError`` naming
/// the key (and never a secret's value).
///
/// Values arrive as text from every source (flags, `PORTERO_*` variables, YAML scalars) and are trimmed; an absent
/// key takes the default the caller gives.
struct ConfigParser {
    let reader: ConfigReader

    init(_ reader: ConfigReader) {
        self.reader = reader
    }

    func raw(_ key: String) -> String? {
        reader.string(forKey: ConfigKey(key), isSecret: PorteroConfiguration.secretKeys.contains(key))
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func bad(_ key: String, _ problem: String) -> ConfigurationError {
        ConfigurationError("invalid value for \(key): \(problem)")
    }

    func string(_ key: String, default fallback: String, allowEmpty: Bool) throws(ConfigurationError) -> String {
        guard let value = raw(key) else { return fallback }
        if value.isEmpty && !allowEmpty { throw bad(key, "must not be empty") }
        try checkText(key, value)
        return value
    }

    func optionalString(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = raw(key), !value.isEmpty else { return nil }
        if !PorteroConfiguration.secretKeys.contains(key) { try checkText(key, value) }
        return value
    }

    /// A list: a YAML sequence, or text separated by commas (flags and environment variables).
    func list(_ key: String) -> [String] {
        let items: [String]
        if let list = reader.stringArray(forKey: ConfigKey(key)) {
            items = list
        } else if let single = reader.string(forKey: ConfigKey(key)) {
            items = single.split(separator: ",").map(String.init)
        } else {
            items = []
        }
        return items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func checkText(_ key: String, _ value: String) throws(ConfigurationError) {
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw bad(key, "contains control characters")
        }
    }

    /// `true` or `false` (a YAML boolean, or that text from a flag or the environment).
    func bool(_ key: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        if let value = reader.bool(forKey: ConfigKey(key)) { return value }
        guard let value = raw(key) else { return fallback }
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw bad(key, "\"\(value)\" is not true or false")
        }
    }

    func int(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = raw(key) else { return fallback }
        guard let number = Int(value), range.contains(number) else {
            throw bad(key, "\"\(value)\" is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// - Parameter zeroIsOff: accept `0` (or `0d`, …) as a span of 0 seconds, which the key reads as "none".
    func timeSpan(_ key: String, default fallback: String, zeroIsOff: Bool = false) throws(ConfigurationError)
        -> TimeSpan
    {
        let value = raw(key) ?? fallback
        if zeroIsOff, value == "0" || TimeSpan(parsing: value)?.seconds == 0 { return TimeSpan(seconds: 0) }
        guard let span = TimeSpan(parsing: value), span.seconds > 0 else {
            throw bad(key, "\"\(value)\" is not a duration like 30s, 15m, 24h or 30d")
        }
        return span
    }

    func rate(_ key: String, default fallback: String) throws(ConfigurationError) -> RateLimit {
        let value = raw(key) ?? fallback
        guard let rate = RateLimit(parsing: value) else {
            throw bad(key, "\"\(value)\" is not a rate like 5/15m (or 0 for off)")
        }
        return rate
    }

    /// One of an enumeration's raw values, in any letter case.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        guard let value = raw(key) else { return fallback }
        guard let choice = T.allCases.first(where: { $0.rawValue.lowercased() == value.lowercased() }) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw bad(key, "\"\(value)\" is not one of \(options)")
        }
        return choice
    }

    func fileMode(_ key: String, default fallback: UInt16) throws(ConfigurationError) -> UInt16 {
        guard let value = raw(key) else { return fallback }
        guard (3...4).contains(value.count), let mode = UInt16(value, radix: 8), mode <= 0o777 else {
            throw bad(key, "\"\(value)\" is not an octal mode like 0660")
        }
        return mode
    }

    /// `host:port` or `[v6]:port`; empty text is no address.
    func listenAddress(_ key: String, default fallback: String) throws(ConfigurationError) -> ListenAddress? {
        let value = raw(key) ?? fallback
        if value.isEmpty { return nil }
        let host: Substring
        let port: Substring
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]"), value[value.index(after: close)...].hasPrefix(":") else {
                throw bad(key, "\"\(value)\" is not host:port")
            }
            host = value[value.index(after: value.startIndex)..<close]
            port = value[value.index(close, offsetBy: 2)...]
        } else {
            guard let colon = value.lastIndex(of: ":"), !value[..<colon].contains(":") else {
                throw bad(key, "\"\(value)\" is not host:port")
            }
            host = value[..<colon]
            port = value[value.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (0...65535).contains(number) else {
            throw bad(key, "\"\(value)\" is not host:port with a port from 0 to 65535")
        }
        return ListenAddress(host: String(host), port: number)
    }
}

/// Names the keys whose values differ between two readings of one component (SIGHUP reports them).
struct KeyChanges {
    private(set) var keys: [String] = []

    mutating func compare<Value: Equatable>(_ key: String, _ old: Value, _ new: Value) {
        if old != new { keys.append(key) }
    }
}
