import Foundation
import Logging
import PorteroTestSupport
import Testing

import PorteroCore
@testable import PorteroStore

@Suite struct StoreCheckerTests {
    @Test func healthyDirectory() async throws {
        let directory = try TestDirectory("check-healthy")
        defer { directory.remove() }
        let store = try await openStore(directory)
        for index in 0..<5 {
            try await store.write { $0.append(.put(key: "k\(index)", value: "v")) }
        }
        let snapshot = try await store.snapshot()
        try await store.write { $0.append(.put(key: "after", value: "v")) }
        await store.close(snapshot: false)

        // Other tests of this process spawn programs in parallel: a child between its fork and its exec holds a copy
        // of every descriptor, O_CLOEXEC ones too, and with it the flock of LOCK for that moment. Look again briefly.
        var report = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: false)
        for _ in 0..<50 where report.lockHeld {
            try await Task.sleep(for: .milliseconds(100))
            report = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: false)
        }
        #expect(report.problems.isEmpty, "\(report)")
        #expect(report.isHealthy && report.wouldStart)
        #expect(report.segmentCount == 1)
        #expect(report.recordCount == 1)
        #expect(report.snapshotSeq == snapshot)
        #expect(report.lastSeq == snapshot + 2)
        #expect(!report.lockHeld)
        #expect(report.description.hasSuffix("ok"))
    }

    @Test func listsEveryProblemNotJustTheFirst() async throws {
        let directory = try TestDirectory("check-many")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 8)
        var damaged = log.bytes
        damaged[log.lineStarts[2] + 3] ^= 0x10
        damaged[log.lineStarts[5] + 20] ^= 0x01
        damaged += Array("{\"seq\":10,\"at\"".utf8)
        try writeBytes(damaged, to: log.path)

        let report = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: false)
        #expect(report.problems.count == 3, "\(report)")
        #expect(report.problems.map(\.location.line) == [3, 6, 10])
        #expect(report.problems.map(\.location.byteOffset) == [log.lineStarts[2], log.lineStarts[5], log.bytes.count])
        #expect(report.problems.map(\.isTornTail) == [false, false, true])
        #expect(report.recordCount == 6)
        #expect(!report.wouldStart)
        #expect(report.description.contains("\(log.path) line 3 (byte offset \(log.lineStarts[2]))"))
    }

    @Test func repairCutsATornTailAfterKeepingACopy() async throws {
        let directory = try TestDirectory("check-repair")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 6)
        let damaged = log.bytes + Array("{\"seq\":8,\"at\":\"2026-11-23T15:3".utf8)
        try writeBytes(damaged, to: log.path)

        let before = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: false)
        #expect(before.problems.count == 1)
        #expect(before.problems.first?.isTornTail == true)
        #expect(before.wouldStart && !before.isHealthy)
        #expect(try readBytes(log.path) == damaged, "a plain check changes nothing")

        let repaired = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: true)
        #expect(repaired.isHealthy, "\(repaired)")
        #expect(repaired.repairs.count == 1)
        #expect(try readBytes(log.path + ".broken") == damaged)
        #expect(mode(log.path + ".broken") == 0o600)
        #expect(try readBytes(log.path) == log.bytes)

        let after = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: false)
        #expect(after.problems.isEmpty)
        let recorder = StoreLogRecorder()
        let store = try await openStore(directory, recorder: recorder)
        #expect(await store.state == log.states[6])
        #expect(recorder.entries(atLeast: .warning).isEmpty)
        await store.close(snapshot: false)
    }

    @Test func repairNeverTouchesMidLogDamage() async throws {
        let directory = try TestDirectory("check-no-repair")
        defer { directory.remove() }
        let log = try await RecordedLog.make(in: directory, records: 6)
        var damaged = log.bytes
        damaged[log.lineStarts[2] + 10] ^= 0x04
        try writeBytes(damaged, to: log.path)

        let report = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: true)
        #expect(report.problems.count == 1)
        #expect(report.repairs.isEmpty)
        #expect(!report.isHealthy && !report.wouldStart)
        #expect(try readBytes(log.path) == damaged)
        #expect(!FileManager.default.fileExists(atPath: log.path + ".broken"))
        await #expect(throws: StoreError.self) { _ = try await openStore(directory) }
    }

    @Test func lockHeldByARunningStore() async throws {
        let directory = try TestDirectory("check-locked")
        defer { directory.remove() }
        let store = try await openStore(directory)
        try await store.write { $0.append(.put(key: "a", value: "1")) }

        let report = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: false)
        #expect(report.lockHeld)
        #expect(report.problems.isEmpty)
        #expect(report.description.contains("locked"))
        do {
            _ = try StoreChecker.check(directory: directory.path, stateType: KeyValueState.self, repair: true)
            Issue.record("repair ran while a store held the lock")
        } catch let error as StoreError {
            #expect(error.code == .directoryLocked)
            #expect(error.description.contains("\(directory.path)/LOCK"))
        }
        await store.close(snapshot: false)
    }
}
