public import Configuration
public import PorteroCore
import PorteroStore

/// When the store writes a snapshot.
public struct SnapshotConfiguration: Sendable, Equatable {
    /// `snapshot.every_records`: after this many records since the last snapshot.
    public var everyRecords: Int
    /// `snapshot.every`: or after this long, whichever comes first.
    public var every: TimeSpan

    public static let keys = ["snapshot.every_records", "snapshot.every"]

    /// Reads `snapshot.every_records` (default 10000) and `snapshot.every` (default 10m).
    public init(reader: ConfigReader) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        everyRecords = try parser.int("snapshot.every_records", default: 10_000, range: 1...100_000_000)
        every = try parser.timeSpan("snapshot.every", default: "10m")
    }

    /// The store's settings.
    var fileStore: FileStoreConfiguration {
        FileStoreConfiguration(snapshotEveryRecords: everyRecords, snapshotInterval: every.duration)
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("snapshot.every_records", old.everyRecords, everyRecords)
        changes.compare("snapshot.every", old.every, every)
        return changes.keys
    }
}
