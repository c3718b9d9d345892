import Foundation
import Glibc
import Logging
import PorteroTestSupport
import Testing

import PorteroCore
@testable import PorteroStore

/// A tmpfs small enough to fill, for provoking real write failures (needs root; skipped otherwise).
enum TinyFilesystem {
    /// True when this process can mount a tmpfs (root with CAP_SYS_ADMIN).
    static let available: Bool = {
        guard getuid() == 0, let directory = try? TestDirectory("tmpfs-probe") else { return false }
        defer { directory.remove() }
        guard Glibc.mount("tmpfs", directory.path, "tmpfs", 0, "size=16k,mode=0700") == 0 else { return false }
        umount2(directory.path, Int32(MNT_DETACH))
        return true
    }()

    /// Mounts a tmpfs of `kilobytes` on `directory`.
    static func mount(on directory: TestDirectory, kilobytes: Int) -> Bool {
        Glibc.mount("tmpfs", directory.path, "tmpfs", 0, "size=\(kilobytes)k,mode=0700") == 0
    }

    static func unmount(_ directory: TestDirectory) {
        umount2(directory.path, Int32(MNT_DETACH))
    }
}

@Suite struct FileStoreFailStopTests {
    @Test(.enabled(if: TinyFilesystem.available, "mounting a tmpfs needs root"))
    func fullDiskStopsWritesButNotReads() async throws {
        let mountPoint = try TestDirectory("failstop")
        defer { mountPoint.remove() }
        try #require(TinyFilesystem.mount(on: mountPoint, kilobytes: 32))
        defer { TinyFilesystem.unmount(mountPoint) }
        let recorder = StoreLogRecorder()
        let store = try await FileStore<KeyValueState>.open(
            directory: mountPoint.file("data"),
            configuration: FileStoreConfiguration(),
            logger: recorder.logger
        )
        let big = String(repeating: "x", count: 1500)
        var acknowledged: [String] = []
        var failure: StoreError?
        for index in 0..<100 {
            do {
                try await store.write { $0.append(.put(key: "k\(index)", value: big)) }
                acknowledged.append("k\(index)")
            } catch let error as StoreError {
                failure = error
                break
            }
        }
        let error = try #require(failure, "32 KiB never filled up")
        #expect(error.isUnavailable)
        #expect(error.code == .unavailable)
        #expect(acknowledged.count > 5)

        // Fail-stop: reads go on, writes are refused at once, the reason is kept and logged once at critical.
        let state = await store.state
        #expect(state.entries.count == acknowledged.count)
        #expect(await store.isWritable == false)
        let reason = try #require(await store.failure)
        #expect(reason.contains("No space left on device") || reason.contains("short write"), "\(reason)")
        do {
            try await store.write { $0.append(.put(key: "tiny", value: "1")) }
            Issue.record("a failed store accepted a write")
        } catch let error as StoreError {
            #expect(error.isUnavailable)
        }
        #expect(await store.stagedState == state, "the staged state is reset to the durable one")
        let critical = recorder.entries(atLeast: .critical)
        #expect(critical.count == 1, "\(critical)")
        #expect(critical.first?.message.contains(big) == false)
        #expect(recorder.entries.allSatisfy { !$0.description.contains(big) }, "record data reached the log")
        await store.close(snapshot: true)

        // What was acknowledged survives; a torn batch is cut off.
        let reopened = try await FileStore<KeyValueState>.open(
            directory: mountPoint.file("data"),
            configuration: FileStoreConfiguration(),
            logger: StoreLogRecorder().logger
        )
        #expect(await reopened.state == state)
        await reopened.close(snapshot: false)
    }
}

@Suite struct FileStoreSnapshotFailureTests {
    /// A snapshot that does not fit fails on its own: the temp file goes, older files stay, the log goes on.
    @Test(.enabled(if: TinyFilesystem.available, "mounting a tmpfs needs root"))
    func snapshotThatDoesNotFitKeepsTheLogWritable() async throws {
        let mountPoint = try TestDirectory("snapshot-full")
        defer { mountPoint.remove() }
        try #require(TinyFilesystem.mount(on: mountPoint, kilobytes: 64))
        defer { TinyFilesystem.unmount(mountPoint) }
        let recorder = StoreLogRecorder()
        let data = mountPoint.file("data")
        let store = try await FileStore<KeyValueState>.open(
            directory: data,
            configuration: FileStoreConfiguration(),
            logger: recorder.logger
        )
        let big = String(repeating: "y", count: 1500)
        var index = 0
        while (try FileManager.default.attributesOfItem(atPath: data + "/log-0000000000000001.jsonl")[.size] as? Int
            ?? 0) < 36 * 1024
        {
            try await store.write { [index] in $0.append(.put(key: "k\(index)", value: big)) }
            index += 1
        }
        let before = await store.state
        await #expect(throws: StoreError.self) { _ = try await store.snapshot() }
        #expect(await store.isWritable)
        #expect(await store.lastSnapshotSeq == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: data).sorted()
        #expect(!names.contains { $0.hasSuffix(".tmp") }, "\(names)")
        #expect(!names.contains { $0.hasPrefix("snapshot-") }, "\(names)")
        #expect(names.contains("log-0000000000000001.jsonl"), "covered segments are kept when the snapshot fails")
        #expect(
            recorder.entries(atLeast: .error).map(\.message) == ["snapshot failed; keeping the log and older snapshots"]
        )

        try await store.write { $0.append(.put(key: "small", value: "1")) }
        #expect(await store.state.value("small") == "1")
        #expect(await store.recordsSinceSnapshot == index + 1)
        await store.close(snapshot: false)
        let reopened = try await FileStore<KeyValueState>.open(
            directory: data,
            configuration: FileStoreConfiguration(),
            logger: StoreLogRecorder().logger
        )
        #expect(await reopened.state.entries.count == before.entries.count + 1)
        await reopened.close(snapshot: false)
    }
}
