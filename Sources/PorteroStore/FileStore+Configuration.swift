/// Tuning of a ``FileStore``.
///
/// The server maps `snapshot.every_records` and `snapshot.every` onto the first two.
public struct FileStoreConfiguration: Sendable {
    /// Take a snapshot once this many records were written since the last one (checked by `snapshotIfDue()`).
    public var snapshotEveryRecords: Int
    /// Take a snapshot once this much time passed since the last one, if anything was written.
    public var snapshotInterval: Duration
    /// Write every waiting writer's records with one `write` and one `fdatasync`; false writes and syncs each
    /// transaction on its own (the benchmark's baseline).
    public var groupCommit: Bool

    public init(
        snapshotEveryRecords: Int = 10_000, snapshotInterval: Duration = .seconds(600), groupCommit: Bool = true
    ) {
        self.snapshotEveryRecords = snapshotEveryRecords
        self.snapshotInterval = snapshotInterval
        self.groupCommit = groupCommit
    }

    var snapshotIntervalSeconds: Double {
        let parts = snapshotInterval.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
