internal import CoreFoundation
public import PorteroCore
import Foundation
import Glibc

/// The offline check behind `portero check [--repair]`: reads every snapshot and every line of every segment and
/// lists every problem, with file, line and byte offset.
public enum StoreChecker {
    /// Checks the data directory, and with `repair` cuts a torn tail off the last segment after copying the segment
    /// to `<segment>.broken` (0600). Damage anywhere else is reported and never touched.
    ///
    /// Takes the directory's lock while it runs. A plain check still reads when a daemon holds the lock (and says so
    /// in the report); a repair throws ``StoreError`` `.directoryLocked` instead.
    public static func check<State: StoreStateProtocol>(
        directory: String,
        stateType: State.Type,
        repair: Bool
    ) throws -> CheckReport {
        let storeDirectory = StoreDirectory(path: directory)
        var info = Glibc.stat()
        guard stat(directory, &info) == 0 else {
            throw StoreError.io("cannot read data directory", path: directory, errno: errno)
        }
        var report = CheckReport(directory: directory)
        var lockFD: Int32 = -1
        do {
            lockFD = try FileStore<State>.lockDirectory(storeDirectory)
        } catch let error as StoreError where !repair && error.code == .directoryLocked {
            report.lockHeld = true
        } catch  where !repair {
            // A read-only look at a directory whose lock file cannot be opened (no permission): check anyway.
        }
        defer { POSIXFile.close(lockFD) }

        let listing = try storeDirectory.list()
        for snapshot in listing.snapshots.reversed() {
            switch SnapshotCodec.load(State.self, path: snapshot.path, seq: snapshot.seq) {
            case .valid(_, let seq):
                if report.snapshotSeq == nil {
                    report.snapshotSeq = seq
                }
            case .invalid(let reason):
                report.problems.append(problem(snapshot.path, "invalid snapshot (skipped): \(reason)", blocks: false))
            case .unsupported(let format):
                report.problems.append(
                    problem(
                        snapshot.path,
                        "snapshot format \(format) is not supported by this portero",
                        blocks: report.snapshotSeq == nil
                    )
                )
            }
        }
        report.segmentCount = listing.segments.count

        var tornTail: (problem: LogProblem, segment: StoreDirectory.Segment, goodEnd: Int)?
        let walker = LogWalker<State.Record>(snapshotSeq: report.snapshotSeq ?? 0, decodeAll: true)
        var found: [LogProblem] = []
        let summary = try walker.walk(listing.segments, problem: { found.append($0) }, visit: { _, _, _ in })
        report.recordCount = summary.records
        report.lastSeq = summary.lastSeq
        // Recovery reads only from the segment holding the first record after the snapshot.
        let start = listing.segments.lastIndex { $0.firstSeq <= (report.snapshotSeq ?? 0) + 1 } ?? 0
        let unread = Set(listing.segments[..<start].map(\.path))
        for item in found {
            report.problems.append(
                CheckReport.Problem(
                    location: item.location,
                    message: item.detail.map { "\(item.message): \($0)" } ?? item.message,
                    isTornTail: item.kind == .tornTail,
                    blocksStartup: item.kind != .tornTail && !unread.contains(item.location.path)
                )
            )
            if item.kind == .tornTail, let last = summary.lastSegment {
                tornTail = (item, last.segment, last.goodEnd)
            }
        }

        if repair, let tornTail {
            let path = tornTail.segment.path
            let copy = try brokenCopyPath(for: path)
            let bytes = try POSIXFile.readFile(path)
            try POSIXFile.writeNewFile(copy, bytes, what: "copy of the damaged segment", replacing: false)
            try POSIXFile.syncDirectoryOrThrow(directory)
            try POSIXFile.truncate(path, to: tornTail.goodEnd)
            report.repairs.append(
                "cut \(path) at byte offset \(tornTail.goodEnd) (line \(tornTail.problem.location.line)); "
                    + "the whole segment was saved as \(copy)"
            )
            for index in report.problems.indices where report.problems[index].isTornTail {
                report.problems[index].isRepaired = true
            }
        }
        return report
    }

    private static func problem(_ path: String, _ message: String, blocks: Bool) -> CheckReport.Problem {
        CheckReport.Problem(
            location: StoreLocation(path: path, line: 1, byteOffset: 0),
            message: message,
            isTornTail: false,
            blocksStartup: blocks
        )
    }

    /// `<segment>.broken`, or `<segment>.broken.N` if earlier repairs left copies.
    private static func brokenCopyPath(for path: String) throws -> String {
        var candidate = path + ".broken"
        var counter = 1
        while POSIXFile.exists(candidate) {
            candidate = path + ".broken.\(counter)"
            counter += 1
        }
        return candidate
    }
}
