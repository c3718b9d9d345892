import Dispatch
import Metrics

/// What the store engine measures, through swift-metrics (a no-op until the daemon bootstraps a backend).
enum StoreMetrics {
    /// `portero_store_fsync_seconds`: each `fdatasync` of a log segment (group commit: one per flush).
    private static let fsync = Timer(label: "portero_store_fsync_seconds")
    /// `portero_store_commit_batch_size`: how many transactions one flush wrote with one `write` and one sync.
    private static let batchSize = Recorder(label: "portero_store_commit_batch_size")
    /// `portero_store_snapshot_seconds`: a snapshot from its roll marker to the durable file.
    private static let snapshot = Timer(label: "portero_store_snapshot_seconds")

    /// A start time for ``fsynced(since:)`` and ``snapshotted(since:)``.
    static func now() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }

    static func fsynced(since start: UInt64) {
        fsync.recordNanoseconds(elapsed(since: start))
    }

    static func snapshotted(since start: UInt64) {
        snapshot.recordNanoseconds(elapsed(since: start))
    }

    static func flushed(transactions: Int) {
        batchSize.record(transactions)
    }

    private static func elapsed(since start: UInt64) -> Int64 {
        Int64(clamping: DispatchTime.now().uptimeNanoseconds &- start)
    }
}
