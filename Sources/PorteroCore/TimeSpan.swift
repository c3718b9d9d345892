/// A configured length of time written `<n>s|m|h|d` (`3s`, `15m`, `24h`, `30d`), as SPEC §2 requires.
public struct TimeSpan: Sendable, Hashable, CustomStringConvertible {
    public let seconds: Int

    public init(seconds: Int) {
        self.seconds = seconds
    }

    /// Parses `<n>s|m|h|d`; `n` is a whole number, at most 10 digits.
    public init?(parsing text: some StringProtocol) {
        guard let unit = text.last, text.count >= 2, text.count <= 11 else { return nil }
        let digits = text.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else { return nil }
        let multiplier: Int
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86400
        default: return nil
        }
        self.seconds = count * multiplier
    }

    public var duration: Duration { .seconds(seconds) }

    public var description: String {
        if seconds != 0, seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds != 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds != 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

/// A rate limit written `<count>/<duration>` (`5/15m`); `0` turns the limit off.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    public let count: Int
    public let window: TimeSpan

    public init(count: Int, window: TimeSpan) {
        self.count = count
        self.window = window
    }

    /// A limit that never refuses.
    public static let off = RateLimit(count: 0, window: .init(seconds: 0))

    public var isOff: Bool { count == 0 }

    public init?(parsing text: some StringProtocol) {
        if text == "0" {
            self = .off
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), parts[0].count <= 9,
            let count = Int(parts[0]), count > 0, let window = TimeSpan(parsing: parts[1]), window.seconds > 0
        else { return nil }
        self.init(count: count, window: window)
    }

    public var description: String { isOff ? "0" : "\(count)/\(window)" }
}
