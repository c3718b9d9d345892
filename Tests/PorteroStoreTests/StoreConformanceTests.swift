import Foundation
import Logging
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

/// The shared store contract, run against every implementation.
@Suite struct StoreConformanceTests {
    @Test(arguments: StoreConformanceCheck.allCases)
    func fileStore(_ check: StoreConformanceCheck) async throws {
        let directory = try TestDirectory("conformance-\(check)")
        defer { directory.remove() }
        let recorder = StoreLogRecorder()
        let store = try await FileStore<KeyValueState>.open(
            directory: directory.path,
            configuration: FileStoreConfiguration(),
            logger: recorder.logger
        )
        try await check.run(on: store)
        await store.close(snapshot: false)
        // Refused records are logged (as errors, without their data); nothing else may warn.
        let refusals = recorder.entries(atLeast: .warning).filter { $0.message.hasPrefix("a record could not be") }
        let others = recorder.entries(atLeast: .warning).filter { !$0.message.hasPrefix("a record could not be") }
        #expect(others.isEmpty, "\(others)")
        #expect(refusals.allSatisfy { $0.level == .error && !$0.description.contains("oops") })

        // What was acknowledged is what comes back.
        let durable = await store.state
        let reopened = try await FileStore<KeyValueState>.open(
            directory: directory.path,
            configuration: FileStoreConfiguration(),
            logger: recorder.logger
        )
        #expect(await reopened.state == durable)
        await reopened.close(snapshot: false)
    }

    @Test(arguments: StoreConformanceCheck.allCases)
    func fileStoreWithoutGroupCommit(_ check: StoreConformanceCheck) async throws {
        let directory = try TestDirectory("conformance-single-\(check)")
        defer { directory.remove() }
        let store = try await FileStore<KeyValueState>.open(
            directory: directory.path,
            configuration: FileStoreConfiguration(groupCommit: false),
            logger: StoreLogRecorder().logger
        )
        try await check.run(on: store)
        await store.close(snapshot: false)
    }

    @Test(arguments: StoreConformanceCheck.allCases)
    func memoryStore(_ check: StoreConformanceCheck) async throws {
        try await check.run(on: MemoryStore<KeyValueState>())
    }

    @Test func memoryStoreFailStop() async throws {
        let store = MemoryStore<KeyValueState>()
        try await store.write { $0.append(.put(key: "a", value: "1")) }
        await store.fail(reason: "disk full")
        #expect(await store.failure == "disk full")
        #expect(await store.isWritable == false)
        await #expect(throws: StoreError.self) {
            try await store.write { $0.append(.put(key: "b", value: "1")) }
        }
        do {
            try await store.write { $0.append(.put(key: "b", value: "1")) }
        } catch let error as StoreError {
            #expect(error.isUnavailable)
        }
        #expect(await store.state.value("a") == "1")
    }

    @Test func memoryStoreSnapshotCompacts() async throws {
        let clock = StoreTestClock()
        let store = MemoryStore<KeyValueState>(now: clock.now)
        try await store.write { transaction in
            transaction.append(.put(key: "short", value: "1", expiresAt: transaction.now.addingTimeInterval(60)))
            transaction.append(.put(key: "long", value: "1", expiresAt: transaction.now.addingTimeInterval(600)))
        }
        clock.advance(by: 120)
        _ = try await store.snapshot()
        #expect(await store.state.value("short") == nil)
        #expect(await store.state.value("long") == "1")
    }
}
