import PorteroFormat
public import PorteroCore
import Dispatch
public import Foundation
import Glibc
public import Logging

/// What recovery hands to a new ``FileStore``.
struct RecoveredStore<State: StoreStateProtocol>: Sendable {
    var state: State
    var lastSeq: UInt64
    var snapshotSeq: UInt64
    var recordsSinceSnapshot: Int
    var lockFD: Int32
    var segmentFD: Int32
    var segment: StoreDirectory.Segment
}

extension FileStore {
    /// Opens (creating if needed) the store in `directory`: takes its lock, loads the newest valid snapshot, replays
    /// the log after it, cuts a torn tail off the last segment, and opens the log for appending.
    ///
    /// Throws ``StoreError``: `.directoryLocked` at once if another process holds `<directory>/LOCK`; `.damaged`
    /// (naming file, line and byte offset, and `portero check`) for damage other than a torn tail;
    /// `.unsupportedFormat` for files from a newer version; `.io` when the directory cannot be used.
    ///
    /// - Parameters:
    ///   - directory: The data directory (created with mode 0700 if missing; set to 0700 if not).
    ///   - configuration: Snapshot triggers and group commit.
    ///   - logger: Receives warnings about what recovery cut or skipped and the critical fail-stop message; never
    ///     record data.
    ///   - now: The clock transactions and snapshots use.
    public static func open(
        directory: String,
        configuration: Configuration = Configuration(),
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> FileStore<State> {
        let ioQueue = DispatchQueue(label: "portero.store.io")
        let storeDirectory = StoreDirectory(path: directory)
        let recovered = try await ioQueue.run {
            try Self.recover(storeDirectory, logger: logger, now: now)
        }
        logger.debug(
            "store opened",
            metadata: [
                "store.directory": "\(directory)",
                "store.seq": "\(recovered.lastSeq)",
                "store.snapshot_seq": "\(recovered.snapshotSeq)",
            ]
        )
        return FileStore(
            directory: storeDirectory,
            configuration: configuration,
            logger: logger,
            now: now,
            ioQueue: ioQueue,
            recovered: recovered
        )
    }

    /// Takes the directory's lock without waiting; throws `.directoryLocked` naming the lock file if it is held.
    static func lockDirectory(_ directory: StoreDirectory) throws -> Int32 {
        let fd = try POSIXFile.openOrThrow(directory.lockPath, flags: O_RDWR | O_CREAT, what: "lock file")
        do {
            guard try POSIXFile.tryLock(fd) else {
                throw StoreError.directoryLocked(directory: directory.path, lockPath: directory.lockPath)
            }
        } catch {
            POSIXFile.close(fd)
            throw error
        }
        return fd
    }

    /// Recovery, run on the I/O queue.
    static func recover(_ directory: StoreDirectory, logger: Logger, now: () -> Date) throws -> RecoveredStore<State> {
        try POSIXFile.prepareDirectory(directory.path)
        let lockFD = try lockDirectory(directory)
        do {
            return try recover(directory, lockFD: lockFD, logger: logger, now: now)
        } catch {
            POSIXFile.close(lockFD)
            throw error
        }
    }

    private static func recover(
        _ directory: StoreDirectory,
        lockFD: Int32,
        logger: Logger,
        now: () -> Date
    ) throws -> RecoveredStore<State> {
        let listing = try directory.list()
        for temporary in listing.temporaryFiles {
            _ = POSIXFile.remove(temporary)
        }
        var state = State()
        var snapshotSeq: UInt64 = 0
        for candidate in listing.snapshots.reversed() {
            switch SnapshotCodec.load(State.self, path: candidate.path, seq: candidate.seq) {
            case .valid(let loaded, let seq):
                state = loaded
                snapshotSeq = seq
            case .invalid(let reason):
                logger.warning(
                    "skipping invalid snapshot",
                    metadata: ["store.file": "\(candidate.path)", "store.error": "\(reason)"]
                )
                continue
            case .unsupported(let format):
                throw StoreError(
                    .unsupportedFormat,
                    "snapshot \(candidate.path) has format \(format); this portero reads format \(LogFormat.version): "
                        + "upgrade portero",
                    location: StoreLocation(path: candidate.path, line: 1, byteOffset: 0)
                )
            }
            break
        }

        // Replay from the segment holding snapshotSeq + 1 (or the first one).
        let start = listing.segments.lastIndex { $0.firstSeq <= snapshotSeq + 1 } ?? 0
        let segments = Array(listing.segments[start...])
        var tail: LogProblem?
        var replayed = 0
        let walker = LogWalker<State.Record>(snapshotSeq: snapshotSeq, decodeAll: false)
        let summary = try walker.walk(
            segments,
            problem: { problem in
                switch problem.kind {
                case .tornTail:
                    tail = problem
                case .damage:
                    throw StoreError.damaged(directory: directory.path, at: problem.location, problem.message)
                case .unsupportedFormat:
                    throw StoreError(
                        .unsupportedFormat, "\(problem.location): \(problem.message)", location: problem.location)
                }
            },
            visit: { record, seq, at in
                state.apply(record, seq: seq, at: at.date)
                replayed += 1
            }
        )
        if let tail, let last = summary.lastSegment {
            try POSIXFile.truncate(last.segment.path, to: last.goodEnd)
            logger.warning(
                "cut a torn tail off the log",
                metadata: [
                    "store.file": "\(last.segment.path)",
                    "store.line": "\(tail.location.line)",
                    "store.offset": "\(tail.location.byteOffset)",
                    "store.error": "\(tail.message)",
                ]
            )
        }
        var lastSeq = max(summary.lastSeq ?? 0, snapshotSeq)

        // Append to the last segment, or start a new one if there is none or it kept nothing.
        if let last = summary.lastSegment, last.goodLines > 0 {
            let fd = try POSIXFile.openOrThrow(last.segment.path, flags: O_WRONLY | O_APPEND, what: "segment")
            if fchmod(fd, 0o600) != 0 {
                let code = errno
                POSIXFile.close(fd)
                throw StoreError.io("cannot set mode 0600 on", path: last.segment.path, errno: code)
            }
            return RecoveredStore(
                state: state,
                lastSeq: lastSeq,
                snapshotSeq: snapshotSeq,
                recordsSinceSnapshot: replayed,
                lockFD: lockFD,
                segmentFD: fd,
                segment: last.segment
            )
        }
        if let last = summary.lastSegment, let code = POSIXFile.remove(last.segment.path) {
            throw StoreError.io("cannot remove empty segment", path: last.segment.path, errno: code)
        }
        lastSeq += 1
        let segment = StoreDirectory.Segment(firstSeq: lastSeq, path: directory.segmentPath(firstSeq: lastSeq))
        let fd = try POSIXFile.openOrThrow(segment.path, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND, what: "segment")
        do {
            try POSIXFile.syncDirectoryOrThrow(directory.path)
            if let reason = POSIXFile.writeOnce(fd, LogFormat.segmentLine(seq: lastSeq, at: UTCTimestamp(now()))) {
                throw StoreError(.io, "cannot write \(segment.path): \(reason)")
            }
            if let code = POSIXFile.dataSync(fd) {
                throw StoreError.io("cannot fdatasync", path: segment.path, errno: code)
            }
        } catch {
            POSIXFile.close(fd)
            throw error
        }
        return RecoveredStore(
            state: state,
            lastSeq: lastSeq,
            snapshotSeq: snapshotSeq,
            recordsSinceSnapshot: replayed,
            lockFD: lockFD,
            segmentFD: fd,
            segment: segment
        )
    }
}
