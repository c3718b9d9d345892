import Dispatch
import Foundation
import Testing

@testable import PorteroCore

@Suite("BlockingWorkPool")
struct PasswordWorkPoolTests {
    @Test func runsWorkOnItsOwnThreads() async throws {
        let pool = BlockingWorkPool(threadCount: 2, queueCapacity: 8, name: "test-pool")
        defer { pool.shutdown() }
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask { try await pool.run { Thread.current.name ?? "" } }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(!names.isEmpty)
        #expect(names.isSubset(of: ["test-pool-1", "test-pool-2"]))
    }

    @Test func longNamesAreShortenedToFitLinux() async throws {
        let pool = BlockingWorkPool(threadCount: 1, name: "a-rather-long-pool-name")
        defer { pool.shutdown() }
        #expect(try await pool.run { Thread.current.name } == "a-rather-long-1")
    }

    @Test func returnsResultsAndRethrowsErrors() async throws {
        struct Boom: Error, Equatable {}
        let pool = BlockingWorkPool(threadCount: 1)
        defer { pool.shutdown() }
        #expect(pool.threadCount == 1)
        #expect(pool.queueCapacity == 64)
        #expect(try await pool.run { 6 * 7 } == 42)
        await #expect(throws: Boom.self) { try await pool.run { () throws -> Int in throw Boom() } }
        let hasher = try PasswordHasher(configuration: .init(argon2id: .init(memoryKiB: 64, iterations: 1)))
        let hash = try await pool.run { try hasher.hash("s3cret passphrase") }
        #expect(try await pool.run { hasher.verify("s3cret passphrase", against: hash) })
    }

    @Test func aFullQueueAnswersBusyAtOnce() async throws {
        let pool = BlockingWorkPool(threadCount: 1, queueCapacity: 1)
        defer { pool.shutdown() }
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let gate = DispatchSemaphore(value: 0)

        // The one thread is taken by a job that waits for the gate...
        async let first: Int = pool.run {
            startedContinuation.yield()
            gate.wait()
            return 1
        }
        var startedIterator = started.makeAsyncIterator()
        await startedIterator.next()
        // ...and the one queue slot by a second job.
        async let second: Int = pool.run { 2 }
        while pool.waitingCount < 1 {
            await Task.yield()
        }
        // A third is refused rather than queued.
        await #expect(throws: BlockingWorkPool.Busy.self) { try await pool.run { 3 } }
        #expect(pool.waitingCount == 1)

        gate.signal()
        #expect(try await first == 1)
        #expect(try await second == 2)
        // Room again.
        #expect(try await pool.run { 4 } == 4)
    }

    @Test func shutdownFinishesQueuedWorkAndRefusesNewWork() async throws {
        let pool = BlockingWorkPool(threadCount: 1, queueCapacity: 2)
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let gate = DispatchSemaphore(value: 0)
        async let first: Int = pool.run {
            startedContinuation.yield()
            gate.wait()
            return 1
        }
        var startedIterator = started.makeAsyncIterator()
        await startedIterator.next()
        async let queued: Int = pool.run { 2 }
        while pool.waitingCount < 1 {
            await Task.yield()
        }
        pool.shutdown()
        pool.shutdown()
        await #expect(throws: BlockingWorkPool.ShutDown.self) { try await pool.run { 3 } }
        gate.signal()
        #expect(try await first == 1)
        #expect(try await queued == 2)
    }

    @Test func aCancelledTaskDoesNotQueue() async throws {
        let pool = BlockingWorkPool(threadCount: 1)
        defer { pool.shutdown() }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.run { 1 }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    /// A thread's nice value as the kernel reports it (`/proc/thread-self/stat`, field 19), read on that thread.
    static func currentThreadNice() -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces) start with field 3, the state.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    @Test("niceness lowers only the pool's threads, so hashing yields the cores to the event loops")
    func nicenessLowersOnlyThePoolsThreads() async throws {
        let outside = try #require(Self.currentThreadNice())
        let plain = BlockingWorkPool(threadCount: 1, name: "plain")
        let lowered = BlockingWorkPool(threadCount: 2, name: "lowered", niceness: 10)
        defer {
            plain.shutdown()
            lowered.shutdown()
        }
        #expect(try await plain.run { Self.currentThreadNice() } == outside)
        #expect(try await lowered.run { Self.currentThreadNice() } == min(19, outside + 10))
        // Linux keeps nice per thread: the caller's own thread is untouched.
        #expect(Self.currentThreadNice() == outside)
    }
}
