/// What `portero check` found in a data directory.
public struct CheckReport: Sendable, CustomStringConvertible {
    /// One problem, located in its file.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// Where it is.
        public let location: StoreLocation
        /// What is wrong.
        public let message: String
        /// A torn tail of the last segment: what recovery cuts off by itself and `--repair` cuts.
        public let isTornTail: Bool
        /// True when the daemon refuses to start because of it (a torn tail or a skipped snapshot does not).
        public let blocksStartup: Bool
        /// True once `--repair` cut it off.
        public internal(set) var isRepaired = false

        public var description: String {
            "\(location): \(message)\(isRepaired ? " (repaired)" : "")"
        }
    }

    /// The directory checked.
    public let directory: String
    /// Every problem, in file order (snapshots first).
    public internal(set) var problems: [Problem] = []
    /// Number of log segments.
    public internal(set) var segmentCount = 0
    /// Number of intact data records across all segments (engine records excluded).
    public internal(set) var recordCount = 0
    /// The seq of the newest valid snapshot, if any.
    public internal(set) var snapshotSeq: UInt64?
    /// The seq of the last intact record, if any.
    public internal(set) var lastSeq: UInt64?
    /// True when a running daemon held the lock (the check read the files anyway).
    public internal(set) var lockHeld = false
    /// What `--repair` did, one line each.
    public internal(set) var repairs: [String] = []

    /// True when nothing is left to fix: no problem, or only torn tails that were cut.
    public var isHealthy: Bool {
        problems.allSatisfy(\.isRepaired)
    }

    /// True when the daemon would start (it cuts torn tails and skips bad snapshots itself).
    public var wouldStart: Bool {
        problems.allSatisfy { !$0.blocksStartup }
    }

    public var description: String {
        var lines: [String] = []
        let snapshot = snapshotSeq.map { "snapshot at seq \($0)" } ?? "no snapshot"
        lines.append(
            "\(directory): \(segmentCount) segment(s), \(recordCount) record(s), \(snapshot), "
                + "last seq \(lastSeq.map(String.init) ?? "none")"
        )
        if lockHeld {
            lines.append("note: the directory is locked by a running portero; the files were read as they are")
        }
        for problem in problems {
            lines.append("problem: \(problem)")
        }
        lines.append(contentsOf: repairs.map { "repaired: \($0)" })
        if problems.isEmpty {
            lines.append("ok")
        } else if !isHealthy {
            lines.append(
                wouldStart
                    ? "the daemon would start: it cuts a torn tail (`portero check --repair` keeps a copy first) "
                        + "and skips invalid snapshots"
                    : "the daemon will refuse to start: restore the named files from a backup or remove the damaged "
                        + "records by hand (the lines are JSON)"
            )
        }
        return lines.joined(separator: "\n")
    }
}
