public import Logging

import Synchronization

/// A process-wide log level that, once set, overrides the level every ``JournalLogHandler`` was created with.
///
/// The daemon's loggers are values copied into every component at start-up; this is how a `SIGHUP` that changes
/// `log.level` reaches all of them at once.
public enum RuntimeLogLevel {
    /// The index of the level in `Logger.Level.allCases`, or -1 while nothing overrides the handlers' own level.
    private static let index = Atomic<Int>(-1)

    /// The level in force for every handler, or `nil` when each handler keeps its own.
    public static var current: Logger.Level? {
        let value = index.load(ordering: .relaxed)
        let levels = Logger.Level.allCases
        return levels.indices.contains(value) ? levels[value] : nil
    }

    /// Sets the level of every handler; `nil` gives each handler its own level back.
    public static func set(_ level: Logger.Level?) {
        let value = level.flatMap { Logger.Level.allCases.firstIndex(of: $0) } ?? -1
        index.store(value, ordering: .relaxed)
    }
}
