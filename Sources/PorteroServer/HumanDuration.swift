import PorteroCore

/// Durations as mail text says them: "15 minutes", "1 hour", "2 days".
enum HumanDuration {
    static func describe(_ span: TimeSpan) -> String {
        let seconds = span.seconds
        func unit(_ count: Int, _ name: String) -> String { "\(count) \(name)\(count == 1 ? "" : "s")" }
        if seconds % 86400 == 0 { return unit(seconds / 86400, "day") }
        if seconds % 3600 == 0 { return unit(seconds / 3600, "hour") }
        if seconds % 60 == 0 { return unit(seconds / 60, "minute") }
        return unit(seconds, "second")
    }
}
