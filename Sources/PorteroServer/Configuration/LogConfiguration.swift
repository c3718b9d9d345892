public import Configuration
public import Logging
public import Systemd

/// Where log lines go and how much is written.
public struct LogConfiguration: Sendable, Equatable {
    /// `log.format`: journal, text or json.
    public var format: JournalLogHandler.Format
    /// `log.level`: the lowest level written.
    public var level: Logger.Level

    public static let keys = ["log.format", "log.level"]

    /// Reads `log.format` (default journal under systemd, else text) and `log.level` (default info).
    public init(reader: ConfigReader, defaults: MachineDefaults) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        format = try parser.choice("log.format", default: defaults.logFormat)
        level = try parser.choice("log.level", default: .info)
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("log.format", old.format, format)
        changes.compare("log.level", old.level, level)
        return changes.keys
    }
}
