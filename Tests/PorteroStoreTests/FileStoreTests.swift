import Foundation
import Glibc
import Logging
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

/// Opens a file store of the test state in `directory`.
func openStore(
    _ directory: TestDirectory,
    recorder: StoreLogRecorder = StoreLogRecorder(),
    configuration: FileStoreConfiguration = FileStoreConfiguration(),
    clock: StoreTestClock? = nil,
    waitForLock: Bool = true
) async throws -> FileStore<KeyValueState> {
    // The integration tests spawn daemons from this same process: a child between fork and exec briefly holds a
    // copy of every descriptor, our lock included (flock locks belong to the open file description). So a lock
    // this process just released may still be held for a moment; wait for it rather than fail.
    let deadline = ContinuousClock.now + .seconds(5)
    let now: @Sendable () -> Date
    if let clock {
        now = clock.now
    } else {
        now = { Date() }
    }
    while true {
        do {
            return try await FileStore<KeyValueState>.open(
                directory: directory.path,
                configuration: configuration,
                logger: recorder.logger,
                now: now
            )
        } catch let error as StoreError where error.code == .directoryLocked && waitForLock && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// The permission bits of `path`.
func mode(_ path: String) -> mode_t? {
    // FileManager rather than stat(2): which Clang module owns `struct stat` varies with import order.
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
        let permissions = attributes[.posixPermissions] as? NSNumber
    else { return nil }
    return mode_t(permissions.uint16Value & 0o777)
}

@Suite struct FileStoreTests {
    @Test func reopenRestoresTheState() async throws {
        let directory = try TestDirectory("reopen")
        defer { directory.remove() }
        let store = try await openStore(directory)
        for index in 0..<20 {
            try await store.write { transaction in
                transaction.append(.put(key: "k\(index % 7)", value: "v\(index)"))
                if index % 5 == 4 {
                    transaction.append(.delete(key: "k\(index % 3)"))
                }
            }
        }
        let state = await store.state
        let lastSeq = await store.lastSeq
        await store.close(snapshot: false)

        let reopened = try await openStore(directory)
        #expect(await reopened.state == state)
        #expect(await reopened.lastSeq == lastSeq)
        #expect(await reopened.recordsSinceSnapshot == state.appliedCount)
        let seq = try await reopened.write { transaction in
            let seq = transaction.nextSeq
            transaction.append(.put(key: "after", value: "1"))
            return seq
        }
        #expect(seq == lastSeq + 1)
        await reopened.close(snapshot: false)
        #expect(directory.names() == ["LOCK", "log-0000000000000001.jsonl"])
    }

    @Test func linesHaveTheDocumentedShape() async throws {
        let directory = try TestDirectory("shape")
        defer { directory.remove() }
        let store = try await openStore(directory)
        try await store.write { $0.append(.put(key: "a/b \"quoted\"\n", value: "é")) }
        await store.close(snapshot: false)

        let text = try String(contentsOfFile: directory.file("log-0000000000000001.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3)
        #expect(lines.last == "")
        for (index, line) in lines.dropLast().enumerated() {
            #expect(line.hasPrefix("{\"seq\":\(index + 1),\"at\":\""))
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                "line \(index + 1) is not a JSON object"
            )
            #expect(Set(object.keys) == ["seq", "at", "type", "data", "crc"])
            let crcRange = try #require(line.range(of: ",\"crc\":\""))
            let covered = Array(line[..<crcRange.lowerBound].utf8)
            let crc = try #require(object["crc"] as? String)
            #expect(crc == String(format: "%08x", crc32c(covered)))
            let at = try #require(object["at"] as? String)
            #expect(at.count == 24 && at.hasSuffix("Z"))
        }
        #expect(lines[0].contains(#""type":"store.segment","data":{"format":1}"#))
        #expect(lines[1].contains(#""type":"kv.put""#))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/jq"), "needs /usr/bin/jq"))
    func jqReadsEveryLine() async throws {
        let directory = try TestDirectory("jq")
        defer { directory.remove() }
        let store = try await openStore(directory)
        for index in 0..<5 {
            try await store.write { $0.append(.put(key: "ключ \(index) \u{1F600}", value: "\"\\\t")) }
        }
        let log = directory.file("log-0000000000000001.jsonl")
        #expect(try jq(".seq", log) == "1\n2\n3\n4\n5\n6\n")
        #expect(try jq(".data.key", log).contains("ключ 4 😀"))
        let seq = try await store.snapshot()
        await store.close(snapshot: false)
        #expect(try jq(".seq", directory.file("snapshot-\(String(format: "%016llu", seq)).json")) == "\(seq)\n")
    }

    /// What `jq -r FILTER FILE` prints (and that it succeeds).
    private func jq(_ filter: String, _ path: String) throws -> String {
        let jq = Process()
        jq.executableURL = URL(fileURLWithPath: "/usr/bin/jq")
        jq.arguments = ["-r", filter, path]
        let output = Pipe()
        jq.standardOutput = output
        try jq.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        jq.waitUntilExit()
        #expect(jq.terminationStatus == 0, "jq failed on \(path)")
        return printed
    }

    @Test func snapshotThenReopen() async throws {
        let directory = try TestDirectory("snapshot")
        defer { directory.remove() }
        let store = try await openStore(directory)
        for index in 0..<10 {
            try await store.write { $0.append(.put(key: "k\(index)", value: "\(index)")) }
        }
        let lastBefore = await store.lastSeq
        let seq = try await store.snapshot()
        #expect(seq == lastBefore)
        #expect(await store.lastSnapshotSeq == seq)
        #expect(await store.recordsSinceSnapshot == 0)
        #expect(try await store.snapshot() == seq, "a snapshot with nothing new is the previous one")
        let snapshotName = "snapshot-\(String(format: "%016llu", seq)).json"
        let segmentName = "log-\(String(format: "%016llu", seq + 1)).jsonl"
        #expect(directory.names() == ["LOCK", segmentName, snapshotName])

        for index in 10..<15 {
            try await store.write { $0.append(.put(key: "k\(index)", value: "\(index)")) }
        }
        let state = await store.state
        await store.close(snapshot: false)

        let snapshotFile = try Data(contentsOf: URL(fileURLWithPath: directory.file(snapshotName)))
        #expect(snapshotFile.last == 0x0A)
        let object = try #require(try JSONSerialization.jsonObject(with: snapshotFile) as? [String: Any])
        #expect(object["format"] as? Int == 1)
        #expect((object["seq"] as? NSNumber)?.uint64Value == seq)
        #expect(String(decoding: snapshotFile.prefix(22), as: UTF8.self) == "{\"format\":1,\"seq\":\(seq),\"")

        let reopened = try await openStore(directory)
        #expect(await reopened.state == state)
        #expect(await reopened.lastSnapshotSeq == seq)
        #expect(await reopened.recordsSinceSnapshot == 5)
        await reopened.close(snapshot: true)
        let names = directory.names()
        #expect(names.count == 3, "\(names)")
        #expect(names.filter { $0.hasPrefix("snapshot-") }.count == 1)
        #expect(names.filter { $0.hasPrefix("log-") }.count == 1)

        let third = try await openStore(directory)
        #expect(await third.state == state)
        #expect(await third.recordsSinceSnapshot == 0)
        await third.close(snapshot: false)
    }

    @Test func snapshotsPruneWhatTheyCover() async throws {
        let directory = try TestDirectory("prune")
        defer { directory.remove() }
        let store = try await openStore(directory)
        var seqs: [UInt64] = []
        for round in 0..<4 {
            for index in 0..<3 {
                try await store.write { $0.append(.put(key: "r\(round)-\(index)", value: "x")) }
            }
            seqs.append(try await store.snapshot())
        }
        #expect(seqs == seqs.sorted() && Set(seqs).count == 4)
        let last = try #require(seqs.last)
        #expect(
            directory.names() == [
                "LOCK",
                "log-\(String(format: "%016llu", last + 1)).jsonl",
                "snapshot-\(String(format: "%016llu", last)).json",
            ]
        )
        let state = await store.state
        await store.close(snapshot: false)
        let reopened = try await openStore(directory)
        #expect(await reopened.state == state)
        await reopened.close(snapshot: false)
    }

    @Test func snapshotCompactsOnDiskAndInMemory() async throws {
        let directory = try TestDirectory("compact")
        defer { directory.remove() }
        let clock = StoreTestClock()
        let store = try await openStore(directory, clock: clock)
        try await store.write { transaction in
            transaction.append(.put(key: "code", value: "123456", expiresAt: transaction.now.addingTimeInterval(900)))
            transaction.append(.put(key: "user", value: "ana"))
        }
        clock.advance(by: 901)
        _ = try await store.snapshot()
        #expect(await store.state.value("code") == nil, "an idle store swaps in the compacted state")
        #expect(await store.state.value("user") == "ana")
        await store.close(snapshot: false)
        let reopened = try await openStore(directory, clock: clock)
        #expect(await reopened.state.value("code") == nil)
        #expect(await reopened.state.value("user") == "ana")
        await reopened.close(snapshot: false)
    }

    @Test func snapshotIfDueCountsRecordsAndTime() async throws {
        let directory = try TestDirectory("due")
        defer { directory.remove() }
        let clock = StoreTestClock()
        let configuration = FileStoreConfiguration(snapshotEveryRecords: 5, snapshotInterval: .seconds(600))
        let store = try await openStore(directory, configuration: configuration, clock: clock)
        await store.snapshotIfDue()
        #expect(await store.lastSnapshotSeq == 0)
        for index in 0..<4 {
            try await store.write { $0.append(.put(key: "k\(index)", value: "x")) }
        }
        await store.snapshotIfDue()
        #expect(await store.lastSnapshotSeq == 0, "4 of 5 records: not due")
        try await store.write { $0.append(.put(key: "k4", value: "x")) }
        await store.snapshotIfDue()
        let first = await store.lastSnapshotSeq
        #expect(first > 0, "5 records: due")

        try await store.write { $0.append(.put(key: "k5", value: "x")) }
        clock.advance(by: 599)
        await store.snapshotIfDue()
        #expect(await store.lastSnapshotSeq == first, "one record, 599 s since the last snapshot: not due")
        clock.advance(by: 1)
        await store.snapshotIfDue()
        let second = await store.lastSnapshotSeq
        #expect(second > first, "one record and 600 s: due")

        clock.advance(by: 700)
        await store.snapshotIfDue()
        #expect(await store.lastSnapshotSeq == second, "time passed but nothing new")
        await store.close(snapshot: false)
    }

    @Test func modesAreOwnerOnly() async throws {
        let parent = try TestDirectory("modes")
        defer { parent.remove() }
        let fresh = parent.file("fresh/nested")
        let store = try await FileStore<KeyValueState>.open(
            directory: fresh,
            configuration: FileStoreConfiguration(),
            logger: StoreLogRecorder().logger
        )
        try await store.write { $0.append(.put(key: "a", value: "1")) }
        _ = try await store.snapshot()
        await store.close(snapshot: false)
        #expect(mode(fresh) == 0o700)
        let names = try FileManager.default.contentsOfDirectory(atPath: fresh)
        #expect(names.count == 3)
        for name in names {
            #expect(mode(fresh + "/" + name) == 0o600, "\(name)")
        }

        let existing = parent.file("existing")
        #expect(mkdir(existing, 0o755) == 0)
        let second = try await FileStore<KeyValueState>.open(
            directory: existing,
            configuration: FileStoreConfiguration(),
            logger: StoreLogRecorder().logger
        )
        #expect(mode(existing) == 0o700)
        await second.close(snapshot: false)
    }

    @Test func secondOpenFailsNamingTheLock() async throws {
        let directory = try TestDirectory("lock")
        defer { directory.remove() }
        let store = try await openStore(directory)
        do {
            _ = try await openStore(directory, waitForLock: false)
            Issue.record("a second open of a locked directory succeeded")
        } catch let error as StoreError {
            #expect(error.code == .directoryLocked)
            #expect(
                error.description
                    == "data directory \(directory.path) is in use by another portero process "
                    + "(lock \(directory.path)/LOCK is held)"
            )
        }
        try await store.write { $0.append(.put(key: "still", value: "writable")) }
        await store.close(snapshot: false)
        let again = try await openStore(directory)
        #expect(await again.state.value("still") == "writable")
        await again.close(snapshot: false)
    }

    @Test func concurrentWritersShareFsyncs() async throws {
        let directory = try TestDirectory("group")
        defer { directory.remove() }
        let store = try await openStore(directory)
        let writers = 64
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writers {
                group.addTask {
                    try await store.write { $0.append(.put(key: "k\(index)", value: "v")) }
                }
            }
            try await group.waitForAll()
        }
        let syncs = await store.syncCount
        #expect(syncs >= 1)
        #expect(syncs <= writers / 4, "\(writers) concurrent writes took \(syncs) fdatasyncs")
        #expect(await store.state.entries.count == writers)
        await store.close(snapshot: false)
    }

    @Test func withoutGroupCommitEveryWriteSyncs() async throws {
        let directory = try TestDirectory("nogroup")
        defer { directory.remove() }
        let store = try await openStore(directory, configuration: FileStoreConfiguration(groupCommit: false))
        let writers = 16
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writers {
                group.addTask {
                    try await store.write { $0.append(.put(key: "k\(index)", value: "v")) }
                }
            }
            try await group.waitForAll()
        }
        #expect(await store.syncCount == writers)
        await store.close(snapshot: false)
    }

    @Test func writesDuringSnapshotsSurvive() async throws {
        let directory = try TestDirectory("busy-snapshot")
        defer { directory.remove() }
        let store = try await openStore(directory)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for index in 0..<25 {
                        try await store.write { transaction in
                            transaction.append(.put(key: "w\(writer)-\(index)", value: "x"))
                            let count = Int(transaction.state.value("count") ?? "0") ?? 0
                            transaction.append(.put(key: "count", value: String(count + 1)))
                        }
                    }
                }
            }
            group.addTask {
                for _ in 0..<5 {
                    _ = try await store.snapshot()
                }
            }
            try await group.waitForAll()
        }
        let state = await store.state
        #expect(state.value("count") == "200")
        await store.close(snapshot: false)
        let reopened = try await openStore(directory)
        #expect(await reopened.state == state)
        await reopened.close(snapshot: false)
    }

    @Test func closeWaitsForWritesAndRefusesLaterOnes() async throws {
        let directory = try TestDirectory("close")
        defer { directory.remove() }
        let store = try await openStore(directory)
        let acknowledged = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<32 {
                group.addTask {
                    do {
                        try await store.write { $0.append(.put(key: "k\(index)", value: "v")) }
                        return "k\(index)"
                    } catch let error as StoreError where error.isUnavailable {
                        return nil
                    }
                }
            }
            group.addTask {
                await store.close(snapshot: true)
                return nil
            }
            var keys: [String] = []
            for try await key in group {
                if let key { keys.append(key) }
            }
            return keys
        }
        await store.close(snapshot: false)
        #expect(await store.isWritable == false)
        await #expect(throws: StoreError.self) {
            try await store.write { $0.append(.put(key: "late", value: "v")) }
        }
        let reopened = try await openStore(directory)
        let state = await reopened.state
        for key in acknowledged {
            #expect(state.value(key) == "v", "acknowledged \(key) is missing")
        }
        await reopened.close(snapshot: false)
    }

    @Test func invalidNewerSnapshotIsSkippedWithAWarning() async throws {
        let directory = try TestDirectory("bad-snapshot")
        defer { directory.remove() }
        let store = try await openStore(directory)
        try await store.write { $0.append(.put(key: "a", value: "1")) }
        _ = try await store.snapshot()
        try await store.write { $0.append(.put(key: "b", value: "2")) }
        let state = await store.state
        await store.close(snapshot: false)
        let bogus = directory.file("snapshot-0000000000000099.json")
        try Data("{\"format\":1,\"seq\":99,\"garbage".utf8).write(to: URL(fileURLWithPath: bogus))

        let recorder = StoreLogRecorder()
        let reopened = try await openStore(directory, recorder: recorder)
        #expect(await reopened.state == state)
        let warnings = recorder.entries(atLeast: .warning)
        #expect(warnings.count == 1)
        #expect(warnings.first?.metadata["store.file"] == bogus)
        await reopened.close(snapshot: false)
    }
}
