import PorteroFormat
import Foundation
import Logging
import PorteroTestSupport
import Testing

import PorteroCore
@testable import PorteroStore

@Suite struct FileStoreRecoveryTests {
    /// Cutting the last segment anywhere inside its last three records loses exactly the records not complete
    /// before the cut, and the cut is logged.
    @Test func tornWriteAtEveryOffsetOfTheLastThreeRecords() async throws {
        let directory = try TestDirectory("torn-every-offset")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 8)
        #expect(log.lineCount == 9)
        let firstCut = log.lineStarts[log.lineCount - 3]
        for cut in firstCut..<log.bytes.count {
            try writeBytes(Array(log.bytes[0..<cut]), to: log.path)
            let recorder = StoreLogRecorder()
            let store = try await openStore(directory, recorder: recorder)
            let lines = log.completeLines(before: cut)
            #expect(await store.state == log.states[lines - 1], "cut at \(cut)")
            #expect(await store.lastSeq == UInt64(lines), "cut at \(cut)")
            let warnings = recorder.entries(atLeast: .warning)
            if cut == log.lineStarts[lines] {
                #expect(warnings.isEmpty, "a cut on a line boundary needs no repair (\(cut))")
            } else {
                #expect(warnings.count == 1, "cut at \(cut): \(warnings)")
                #expect(warnings.first?.metadata["store.file"] == log.path)
                #expect(warnings.first?.metadata["store.line"] == String(lines + 1))
                #expect(warnings.first?.metadata["store.offset"] == String(log.lineStarts[lines]))
            }
            await store.close(snapshot: false)
            #expect(try readBytes(log.path) == Array(log.bytes[0..<log.lineStarts[lines]]), "cut at \(cut)")
        }

        // The log goes on cleanly after a cut.
        try writeBytes(Array(log.bytes[0..<(log.bytes.count - 5)]), to: log.path)
        let store = try await openStore(directory)
        try await store.write { $0.append(.put(key: "after-cut", value: "1")) }
        let state = await store.state
        await store.close(snapshot: false)
        let recorder = StoreLogRecorder()
        let reopened = try await openStore(directory, recorder: recorder)
        #expect(await reopened.state == state)
        #expect(recorder.entries(atLeast: .warning).isEmpty)
        await reopened.close(snapshot: false)
    }

    @Test func zeroedTailIsCut() async throws {
        let directory = try TestDirectory("zeroed-tail")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 6)

        // Zeros after the last synced byte (a file extended but never written).
        try writeBytes(log.bytes + [UInt8](repeating: 0, count: 4096), to: log.path)
        try await expectCut(directory, log: log, keepingLines: log.lineCount)

        // The last two records zeroed in place.
        var zeroed = log.bytes
        for offset in log.lineStarts[log.lineCount - 2]..<zeroed.count {
            zeroed[offset] = 0
        }
        try writeBytes(zeroed, to: log.path)
        try await expectCut(directory, log: log, keepingLines: log.lineCount - 2)

        // Only the newline of the last record zeroed (its page lost): a torn write, not a rotted newline.
        try writeBytes(Array(log.bytes.dropLast()) + [0], to: log.path)
        try await expectCut(directory, log: log, keepingLines: log.lineCount - 1)
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomTailIsCut(seed: UInt64) async throws {
        let directory = try TestDirectory("random-tail")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 6)
        var generator = SplitMix64(seed: seed)
        var garbage = (0..<3000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        // A tail ending in a newline would be a complete line, which is damage, not a torn write.
        if garbage[garbage.count - 1] == 0x0A { garbage[garbage.count - 1] = 0x20 }

        try writeBytes(log.bytes + garbage, to: log.path)
        try await expectCut(directory, log: log, keepingLines: log.lineCount)

        let start = log.lineStarts[log.lineCount - 1]
        try writeBytes(Array(log.bytes[0..<start]) + garbage, to: log.path)
        try await expectCut(directory, log: log, keepingLines: log.lineCount - 1)
    }

    /// SPEC §4: a checksum-failing last record is cut off (with a warning), whichever bit of it flipped — the
    /// newline included, which leaves an incomplete line.
    @Test func flippedBitInTheLastRecordIsCut() async throws {
        let directory = try TestDirectory("flip-last")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 6)
        let last = log.lineCount - 1
        for offset in log.lineStarts[last]..<log.lineStarts[last + 1] {
            var damaged = log.bytes
            damaged[offset] ^= 1 << UInt8(offset % 8)
            try writeBytes(damaged, to: log.path)
            try await expectCut(directory, log: log, keepingLines: last)
        }
    }

    /// Two bad complete lines at the end are more than the last record: start-up refuses, naming the first.
    @Test func twoBadCompleteLinesAtTheEndRefuseStartUp() async throws {
        let directory = try TestDirectory("two-bad-last")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 6)
        var damaged = log.bytes
        damaged[log.lineStarts[log.lineCount - 2] + 12] ^= 0x02
        damaged[log.lineStarts[log.lineCount - 1] + 12] ^= 0x02
        try writeBytes(damaged, to: log.path)
        let error = try await refusal(directory)
        #expect(error.code == .damaged)
        #expect(
            error.location
                == StoreLocation(path: log.path, line: log.lineCount - 1, byteOffset: log.lineStarts[log.lineCount - 2]))
        #expect(try readBytes(log.path) == damaged, "nothing cut")
    }

    /// A rotted complete line followed by an incomplete one: both belong to one unfinished write, and are cut.
    @Test func badCompleteLinesBeforeAnIncompleteOneAreOneTornWrite() async throws {
        let directory = try TestDirectory("torn-with-complete")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 6)
        var damaged = log.bytes
        damaged[log.lineStarts[log.lineCount - 1] + 12] ^= 0x02
        damaged += Array(#"{"seq":8,"at":"2026-"#.utf8)
        try writeBytes(damaged, to: log.path)
        try await expectCut(directory, log: log, keepingLines: log.lineCount - 1)
    }

    /// A flipped bit anywhere in a record that is not the last refuses start-up, naming the file and line; the
    /// checker reports the same place.
    @Test func flippedBitInAnEarlierRecordRefusesStartUp() async throws {
        let directory = try TestDirectory("flip-middle")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 6)
        let target = 3
        for offset in log.lineStarts[target]..<log.lineStarts[target + 1] {
            var damaged = log.bytes
            damaged[offset] ^= 1 << UInt8(offset % 8)
            try writeBytes(damaged, to: log.path)
            let expected = StoreLocation(path: log.path, line: target + 1, byteOffset: log.lineStarts[target])
            let error = try await refusal(directory)
            #expect(error.code == .damaged, "flip at \(offset)")
            #expect(error.location == expected, "flip at \(offset): \(error)")
            #expect(error.description.contains("\(log.path) line \(target + 1)"))
            #expect(error.description.contains("byte offset \(log.lineStarts[target])"))
            #expect(error.description.contains("portero check"))

            let report = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: false)
            #expect(report.problems.first?.location == expected, "flip at \(offset): \(report)")
            #expect(report.problems.allSatisfy { $0.blocksStartup })
            #expect(!report.wouldStart)
            #expect(try readBytes(log.path) == damaged, "nothing may touch mid-log damage")
        }
    }

    @Test func seqGapRefusesStartUp() async throws {
        let directory = try TestDirectory("gap")
        defer { directory.remove() }
        let path = directory.file(LogFixture.segmentName(1))
        let lines = [LogFixture.header(1), LogFixture.put(2), LogFixture.put(3), LogFixture.put(5), LogFixture.put(6)]
        try writeBytes(lines.flatMap { $0 }, to: path)
        let error = try await refusal(directory)
        #expect(error.location?.line == 4)
        #expect(error.location?.byteOffset == lines[0..<3].map(\.count).reduce(0, +))
        #expect(error.description.contains("seq 5 skips ahead (expected 4)"))
    }

    @Test func repeatedSeqInTheLastLineRefusesStartUp() async throws {
        let directory = try TestDirectory("repeat")
        defer { directory.remove() }
        let path = directory.file(LogFixture.segmentName(1))
        try writeBytes(LogFixture.segment(1, through: 3) + LogFixture.put(3), to: path)
        let error = try await refusal(directory)
        #expect(error.location?.line == 4)
        #expect(error.description.contains("repeats"))
    }

    @Test func recordTheStateRejectsRefusesStartUp() async throws {
        let directory = try TestDirectory("rejected")
        defer { directory.remove() }
        let path = directory.file(LogFixture.segmentName(1))
        try writeBytes(
            LogFixture.segment(1, through: 3) + LogFixture.line(seq: 4, type: "kv.unknown", data: "{}"),
            to: path
        )
        let error = try await refusal(directory)
        #expect(error.location?.line == 4)
        #expect(error.description.contains("rejected"))
    }

    @Test func damageInAnEarlierSegmentRefusesStartUp() async throws {
        let directory = try TestDirectory("earlier-segment")
        defer { directory.remove() }
        let first = directory.file(LogFixture.segmentName(1))
        var damaged = LogFixture.segment(1, through: 3)
        damaged[damaged.count - 4] ^= 0x01
        try writeBytes(damaged, to: first)
        try writeBytes(LogFixture.segment(4, through: 5), to: directory.file(LogFixture.segmentName(4)))
        let error = try await refusal(directory)
        #expect(error.location?.path == first)
        #expect(error.location?.line == 3)

        // A torn end of an earlier segment is damage too, not a tail to cut.
        let whole = LogFixture.segment(1, through: 3)
        try writeBytes(Array(whole.dropLast(10)), to: first)
        let torn = try await refusal(directory)
        #expect(torn.location?.path == first)
        #expect(torn.location?.line == 3)
    }

    @Test func missingRecordsRefuseStartUp() async throws {
        let directory = try TestDirectory("missing")
        defer { directory.remove() }
        try writeBytes(LogFixture.segment(1, through: 3), to: directory.file(LogFixture.segmentName(1)))
        try writeBytes(LogFixture.segment(6, through: 7), to: directory.file(LogFixture.segmentName(6)))
        let between = try await refusal(directory)
        #expect(between.location?.path == directory.file(LogFixture.segmentName(6)))
        #expect(between.description.contains("ends at seq 3"))

        try FileManager.default.removeItem(atPath: directory.file(LogFixture.segmentName(1)))
        let atStart = try await refusal(directory)
        #expect(atStart.description.contains("records 1…5 are missing"))
    }

    @Test func newerSegmentFormatIsRefused() async throws {
        let directory = try TestDirectory("segment-format")
        defer { directory.remove() }
        try writeBytes(
            LogFixture.header(1, format: 2) + LogFixture.put(2), to: directory.file(LogFixture.segmentName(1)))
        let error = try await refusal(directory)
        #expect(error.code == .unsupportedFormat)
        #expect(error.description.contains("format 2"))
    }

    @Test func newerSnapshotFormatIsRefused() async throws {
        let directory = try TestDirectory("snapshot-format")
        defer { directory.remove() }
        let file = LogFormat.snapshotFile(
            format: 2,
            seq: 3,
            at: UTCTimestamp(milliseconds: 0),
            state: Array(#"{"whatever":true}"#.utf8)
        )
        try writeBytes(file, to: directory.file("snapshot-3.json"))
        let error = try await refusal(directory)
        #expect(error.code == .unsupportedFormat)
        #expect(error.description.contains("snapshot-3.json has format 2"))
    }

    @Test func anySnapshotDigitCountIsRead() async throws {
        let directory = try TestDirectory("digits")
        defer { directory.remove() }
        var state = KeyValueState()
        state.apply(.put(key: "from", value: "snapshot"), seq: 3, at: Date(timeIntervalSince1970: 1))
        let file = LogFormat.snapshotFile(
            seq: 3, at: UTCTimestamp(milliseconds: 0), state: try SnapshotCodec.encode(state))
        try writeBytes(file, to: directory.file("snapshot-3.json"))
        try writeBytes(LogFixture.segment(4, through: 5), to: directory.file("log-4.jsonl"))
        let store = try await openStore(directory)
        #expect(await store.state.value("from") == "snapshot")
        #expect(await store.state.value("k5") == "v")
        #expect(await store.lastSeq == 5)
        await store.close(snapshot: false)
    }

    /// Opens the store, expecting the last segment to be cut to its first `keepingLines` lines with one warning.
    private func expectCut(_ directory: TestDirectory, log: RecordedLog, keepingLines lines: Int) async throws {
        let recorder = StoreLogRecorder()
        let store = try await openStore(directory, recorder: recorder)
        #expect(await store.state == log.states[lines - 1])
        let warnings = recorder.entries(atLeast: .warning)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.metadata["store.line"] == String(lines + 1))
        #expect(warnings.first?.metadata["store.offset"] == String(log.lineStarts[lines]))
        await store.close(snapshot: false)
        #expect(try readBytes(log.path) == Array(log.bytes[0..<log.lineStarts[lines]]))
    }

    /// Opens the store expecting start-up to be refused.
    private func refusal(_ directory: TestDirectory) async throws -> StoreError {
        do {
            let store = try await openStore(directory)
            await store.close(snapshot: false)
        } catch let error as StoreError {
            return error
        }
        throw RefusalMissing()
    }

    private struct RefusalMissing: Error, CustomStringConvertible {
        var description: String { "the store opened although it should have refused" }
    }
}
