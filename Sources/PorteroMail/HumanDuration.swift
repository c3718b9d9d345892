import PorteroCore

/// Durations as mail text says them: "15 minutes", "1 hour", "2 days"; in Spanish "15 minutos", "1 hora".
enum HumanDuration {
    /// Unit names (singular, plural) by language; other languages get English.
    private static let units: [String: [(String, String)]] = [
        "en": [("day", "days"), ("hour", "hours"), ("minute", "minutes"), ("second", "seconds")],
        "es": [("día", "días"), ("hora", "horas"), ("minuto", "minutos"), ("segundo", "segundos")],
    ]

    static func describe(_ span: TimeSpan, language: String = "en") -> String {
        let names = units[language] ?? units[String(language.prefix { $0 != "-" })] ?? units["en"]!
        let seconds = span.seconds
        func unit(_ count: Int, _ index: Int) -> String { "\(count) \(count == 1 ? names[index].0 : names[index].1)" }
        if seconds > 0, seconds % 86400 == 0 { return unit(seconds / 86400, 0) }
        if seconds > 0, seconds % 3600 == 0 { return unit(seconds / 3600, 1) }
        if seconds > 0, seconds % 60 == 0 { return unit(seconds / 60, 2) }
        return unit(seconds, 3)
    }
}
