#if canImport(Glibc)
    import Glibc
#endif
import Dispatch
import Foundation
import Synchronization

/// A fixed set of dedicated threads for slow synchronous work (password hashing), with a bounded queue.
///
/// Work never runs on the Swift cooperative pool or on an event loop. When every thread is busy and
/// `queueCapacity` jobs are already waiting, `run(_:)` throws `Busy` at once instead of queueing more, so that
/// a flood of logins turns into quick 503s rather than an ever-growing backlog.
///
/// - Important: call `shutdown()` when the daemon stops (it is also called when the pool is released). Jobs
///   already queued still run; later calls to `run(_:)` throw `ShutDown`.
public final class BlockingWorkPool: Sendable {
    /// Thrown by `run(_:)` when the queue is full.
    public struct Busy: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String { "The blocking work pool's queue is full." }
    }

    /// Thrown by `run(_:)` after `shutdown()`.
    public struct ShutDown: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String { "The blocking work pool has been shut down." }
    }

    /// How many threads run work.
    public let threadCount: Int
    /// How many jobs may wait for a thread.
    public let queueCapacity: Int

    private let shared: Shared

    /// Starts the threads.
    ///
    /// - Parameters:
    ///   - threadCount: how many threads; `nil` for the number of active processors. At least 1.
    ///   - queueCapacity: how many jobs may wait for a free thread before `run(_:)` answers `Busy`. At least 1.
    ///   - name: the threads' name prefix; threads are named `name-N`, `name` shortened to fit Linux's 15 bytes.
    ///   - niceness: added to the threads' nice value (0 leaves it as it is). The daemon's hash threads run at 10, so
    ///     that a flood of logins, which keeps every core busy hashing, cannot delay the event loops and token
    ///     checks behind it: the scheduler gives the hash threads the cores the rest of the process leaves idle.
    public init(threadCount: Int? = nil, queueCapacity: Int = 64, name: String = "portero-work", niceness: Int32 = 0) {
        self.threadCount = max(1, threadCount ?? ProcessInfo.processInfo.activeProcessorCount)
        self.queueCapacity = max(1, queueCapacity)
        self.shared = Shared()
        for index in 1...self.threadCount {
            let shared = self.shared
            let threadName = Self.threadName(name, index)
            let started = DispatchSemaphore(value: 0)
            let thread = Thread {
                // On Linux, Foundation names the thread only once `start()` has returned (a name set earlier is
                // dropped).
                started.wait()
                Thread.current.name = threadName
                if niceness != 0 {
                    Self.lowerPriorityOfCurrentThread(by: niceness)
                }
                shared.workLoop()
            }
            thread.start()
            started.signal()
        }
    }

    /// `prefix-index`, with `prefix` shortened so that the whole fits Linux's 15 bytes (a longer name is not set
    /// at all).
    private static func threadName(_ prefix: String, _ index: Int) -> String {
        let suffix = "-\(index)"
        var scalars = prefix.unicodeScalars
        while scalars.reduce(0, { $0 + UTF8.width($1) }) + suffix.utf8.count > 15, !scalars.isEmpty {
            scalars.removeLast()
        }
        return String(scalars) + suffix
    }

    deinit {
        shared.shutdown(threadCount: threadCount)
    }

    /// Raises the calling thread's nice value by `niceness` (Linux keeps a nice value per thread: `setpriority` on
    /// `PRIO_PROCESS` 0 changes only the caller). Raising it needs no privilege; if it fails, the thread runs as
    /// before.
    private static func lowerPriorityOfCurrentThread(by niceness: Int32) {
        #if canImport(Glibc)
            errno = 0
            let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            guard errno == 0 else { return }
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(19, current + niceness))
        #endif
    }

    /// How many jobs are waiting for a thread now (for metrics).
    public var waitingCount: Int {
        shared.state.withLock { $0.queue.count }
    }

    /// Runs `work` on one of the pool's threads and answers its result.
    ///
    /// - Throws: `Busy` at once when `queueCapacity` jobs are already waiting; `ShutDown` after `shutdown()`;
    ///   `CancellationError` if the task is already cancelled; otherwise whatever `work` throws. Work that has
    ///   been queued runs even if the task is cancelled meanwhile.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job: Job = { continuation.resume(with: Result { try work() }) }
            switch shared.enqueue(job, capacity: queueCapacity) {
            case .accepted:
                break
            case .busy:
                continuation.resume(throwing: Busy())
            case .shutDown:
                continuation.resume(throwing: ShutDown())
            }
        }
    }

    /// Stops accepting work; the threads finish the queued jobs and exit. Returns at once; calling it again does
    /// nothing.
    public func shutdown() {
        shared.shutdown(threadCount: threadCount)
    }

    typealias Job = @Sendable () -> Void

    /// What the threads and the pool share; the threads hold it, not the pool, so the pool can be released.
    private final class Shared: Sendable {
        struct State {
            var queue: [Job] = []
            var isShutDown = false
        }

        enum Admission {
            case accepted, busy, shutDown
        }

        let state = Mutex(State())
        /// Signalled once per queued job, and once per thread at shutdown.
        let wakeUps = DispatchSemaphore(value: 0)

        func enqueue(_ job: @escaping Job, capacity: Int) -> Admission {
            let admission = state.withLock { state -> Admission in
                if state.isShutDown { return .shutDown }
                if state.queue.count >= capacity { return .busy }
                state.queue.append(job)
                return .accepted
            }
            if admission == .accepted {
                wakeUps.signal()
            }
            return admission
        }

        func shutdown(threadCount: Int) {
            let wasRunning = state.withLock { state in
                defer { state.isShutDown = true }
                return !state.isShutDown
            }
            guard wasRunning else { return }
            for _ in 0..<threadCount {
                wakeUps.signal()
            }
        }

        /// A thread's life: take a job per wake-up; a wake-up with an empty queue only comes after shutdown.
        func workLoop() {
            while true {
                wakeUps.wait()
                let job = state.withLock { state -> Job? in
                    state.queue.isEmpty ? nil : state.queue.removeFirst()
                }
                guard let job else { return }
                job()
            }
        }
    }
}
