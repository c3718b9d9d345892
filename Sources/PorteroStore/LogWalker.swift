import PorteroFormat
import PorteroCore
/// Something wrong in the data directory, found by ``LogWalker``.
struct LogProblem: Sendable {
    enum Kind: Sendable {
        /// Damage that recovery must not repair by itself: it refuses start-up.
        case damage
        /// The bad last record of the last segment, or a run of bad lines there ending in an incomplete line (a torn
        /// write): recovery cuts it off.
        case tornTail
        /// A file in a format newer than this version reads.
        case unsupportedFormat
    }

    let kind: Kind
    let location: StoreLocation
    let message: String
    /// More about the cause (a decoder's error, which may quote the data): shown by `portero check`, never logged.
    var detail: String? = nil
}

/// What a walk over the log found.
struct LogWalkSummary: Sendable {
    /// The seq of the last good record, if any.
    var lastSeq: UInt64?
    /// Good lines seen, engine records included.
    var lines = 0
    /// Good data records seen (engine records excluded).
    var records = 0
    /// Data records handed to the visitor (those after the snapshot).
    var replayed = 0
    /// The last segment walked: how many good lines it keeps and where they end.
    var lastSegment: (segment: StoreDirectory.Segment, goodLines: Int, goodEnd: Int)?
}

/// Reads segments in order and checks every line: syntax, checksum, seq continuity, segment headers, and that the
/// record type accepts the data. Recovery and `portero check` share it and differ only in what they do with a
/// problem (refuse at once, or list them all).
struct LogWalker<Record: StoreRecord> {
    /// The seq of the snapshot the walk continues from (0 for none): records up to it are checked, not visited.
    let snapshotSeq: UInt64
    /// Decode (and so check) records at or before the snapshot too, not only the ones visited.
    let decodeAll: Bool

    /// Walks `segments` (sorted), calling `problem` for each problem in file order and `visit` for each data record
    /// after the snapshot. A throwing callback stops the walk.
    func walk(
        _ segments: [StoreDirectory.Segment],
        problem: (LogProblem) throws -> Void,
        visit: (Record, UInt64, UTCTimestamp) throws -> Void
    ) throws -> LogWalkSummary {
        var summary = LogWalkSummary()
        guard let first = segments.first else { return summary }
        if first.firstSeq > snapshotSeq + 1 {
            let missing =
                snapshotSeq + 1 == first.firstSeq - 1
                ? "record \(snapshotSeq + 1) is" : "records \(snapshotSeq + 1)…\(first.firstSeq - 1) are"
            try problem(
                LogProblem(
                    kind: .damage,
                    location: StoreLocation(path: first.path, line: 1, byteOffset: 0),
                    message: "\(missing) missing: the log starts at seq \(first.firstSeq) and no snapshot covers them"
                )
            )
        }
        var expected: UInt64? = nil
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            if let want = expected, segment.firstSeq != want {
                try problem(
                    LogProblem(
                        kind: .damage,
                        location: StoreLocation(path: segment.path, line: 1, byteOffset: 0),
                        message:
                            "segment starts at seq \(segment.firstSeq) but the one before it ends at seq \(want - 1)"
                    )
                )
            }
            expected = segment.firstSeq
            try walkSegment(
                segment,
                isLast: isLast,
                expected: &expected,
                summary: &summary,
                problem: problem,
                visit: visit
            )
        }
        if let last = summary.lastSegment {
            // An empty last segment (a roll whose first record never landed) ends the log just before its name.
            let end = last.goodLines > 0 ? (summary.lastSeq ?? 0) : last.segment.firstSeq &- 1
            if end < snapshotSeq {
                try problem(
                    LogProblem(
                        kind: .damage,
                        location: StoreLocation(
                            path: last.segment.path,
                            line: last.goodLines + 1,
                            byteOffset: last.goodEnd
                        ),
                        message: "the log ends at seq \(end), before the snapshot's seq \(snapshotSeq): "
                            + "segments are missing"
                    )
                )
            }
        }
        return summary
    }

    private func walkSegment(
        _ segment: StoreDirectory.Segment,
        isLast: Bool,
        expected: inout UInt64?,
        summary: inout LogWalkSummary,
        problem: (LogProblem) throws -> Void,
        visit: (Record, UInt64, UTCTimestamp) throws -> Void
    ) throws {
        let bytes = try POSIXFile.readFile(segment.path)
        let pieces = LogFormat.splitLines(bytes)
        let parsed: [Result<LogFormat.Line, JSONScanError>] = pieces.map { piece in
            guard piece.complete else {
                return .failure(JSONScanError(reason: "incomplete line (no newline at the end of the file)"))
            }
            guard !piece.range.isEmpty else { return .failure(JSONScanError(reason: "empty line")) }
            return LogFormat.parseLine(bytes, piece.range)
        }
        let lastGood = parsed.lastIndex { if case .success = $0 { true } else { false } }
        // SPEC §4: a torn or checksum-failing *last* record is cut off; damage anywhere else refuses start-up. The
        // bad run after the last good record is that last record when it is one line, or when it ends in an
        // incomplete line — one unfinished write (a power loss leaves zeros or garbage after the synced bytes, and
        // the complete-looking lines inside such garbage belong to it). Two or more bad complete lines at the end
        // are damage to more than the last record, and refuse start-up.
        let badRun = pieces.count - (lastGood.map { $0 + 1 } ?? 0)
        let endsIncomplete = pieces.last.map { !$0.complete } ?? false
        let tailIsLastWrite = badRun == 1 || (badRun > 1 && endsIncomplete)
        let tailStart = isLast && tailIsLastWrite ? (lastGood.map { $0 + 1 } ?? 0) : pieces.count
        if !isLast, pieces.isEmpty {
            try problem(
                LogProblem(
                    kind: .damage,
                    location: StoreLocation(path: segment.path, line: 1, byteOffset: 0),
                    message: "empty segment in the middle of the log"
                )
            )
        }
        var goodLines = 0
        for index in 0..<tailStart {
            let location = StoreLocation(
                path: segment.path, line: index + 1, byteOffset: pieces[index].range.lowerBound)
            switch parsed[index] {
            case .failure(let error):
                try problem(LogProblem(kind: .damage, location: location, message: error.reason))
                expected = nil
            case .success(let line):
                goodLines = index + 1
                try check(
                    line, in: bytes, at: location, isFirst: index == 0, segment: segment, expected: &expected,
                    summary: &summary, problem: problem, visit: visit)
            }
        }
        let goodEnd = tailStart == 0 ? 0 : pieces[tailStart - 1].range.upperBound + 1
        if tailStart < pieces.count, case .failure(let error) = parsed[tailStart] {
            let badLines = pieces.count - tailStart
            let location = StoreLocation(path: segment.path, line: tailStart + 1, byteOffset: goodEnd)
            try problem(
                LogProblem(
                    kind: .tornTail,
                    location: location,
                    message: "torn tail: \(error.reason); \(badLines) bad line(s), \(bytes.count - goodEnd) byte(s) "
                        + "from here to the end of the last segment"
                )
            )
        }
        if isLast {
            summary.lastSegment = (segment, goodLines, goodEnd)
        }
    }

    private func check(
        _ line: LogFormat.Line,
        in bytes: [UInt8],
        at location: StoreLocation,
        isFirst: Bool,
        segment: StoreDirectory.Segment,
        expected: inout UInt64?,
        summary: inout LogWalkSummary,
        problem: (LogProblem) throws -> Void,
        visit: (Record, UInt64, UTCTimestamp) throws -> Void
    ) throws {
        summary.lines += 1
        if let want = expected, line.seq != want {
            let what = line.seq < want ? "repeats or goes back" : "skips ahead"
            try problem(
                LogProblem(kind: .damage, location: location, message: "seq \(line.seq) \(what) (expected \(want))")
            )
        }
        expected = line.seq &+ 1
        summary.lastSeq = line.seq
        if isFirst, line.type != LogFormat.segmentType || line.seq != segment.firstSeq {
            try problem(
                LogProblem(
                    kind: .damage,
                    location: location,
                    message: "a segment must start with a \(LogFormat.segmentType) record with seq \(segment.firstSeq)"
                )
            )
        }
        if line.type.hasPrefix(LogFormat.reservedPrefix) {
            guard line.type == LogFormat.segmentType, isFirst else {
                try problem(
                    LogProblem(kind: .damage, location: location, message: "unexpected engine record \(line.type)")
                )
                return
            }
            try checkSegmentHeader(line, in: bytes, at: location, problem: problem)
            return
        }
        summary.records += 1
        let replay = line.seq > snapshotSeq
        guard replay || decodeAll else { return }
        let record: Record
        do {
            record = try Record(type: line.type, data: Array(bytes[line.data]))
        } catch {
            try problem(
                LogProblem(
                    kind: .damage,
                    location: location,
                    message: "record of type \(line.type) was rejected when read back",
                    detail: "\(error)"
                )
            )
            return
        }
        if replay {
            summary.replayed += 1
            try visit(record, line.seq, line.at)
        }
    }

    private func checkSegmentHeader(
        _ line: LogFormat.Line,
        in bytes: [UInt8],
        at location: StoreLocation,
        problem: (LogProblem) throws -> Void
    ) throws {
        var scanner = JSONScanner(bytes, range: line.data)
        let members = try? scanner.scanObjectMembers()
        guard let members, let member = members.first(where: { $0.key == "format" }) else {
            try problem(LogProblem(kind: .damage, location: location, message: "segment header without a format"))
            return
        }
        var number = JSONScanner(bytes, range: member.value)
        let format = try? number.scanUnsigned()
        guard let format, number.isAtEnd else {
            try problem(LogProblem(kind: .damage, location: location, message: "segment header with a bad format"))
            return
        }
        if format != LogFormat.version {
            try problem(
                LogProblem(
                    kind: .unsupportedFormat,
                    location: location,
                    message: "segment format \(format) is not supported: this portero reads format "
                        + "\(LogFormat.version); upgrade portero"
                )
            )
        }
    }
}
