public import Logging
public import ServiceLifecycle

import Synchronization

/// Sends `WATCHDOG=1` at half the watchdog interval for as long as a health probe says the service is well.
///
/// When ``Notifier/watchdogInterval`` is `nil` (no `WatchdogSec=`), the service just waits for graceful
/// shutdown, so that it can sit in a `ServiceGroup` either way.
///
/// - Important: The probe must honour task cancellation: a probe that does not return when cancelled holds the
///   service (and a graceful shutdown) up until it does return.
public struct WatchdogService: Service {
    private let notifier: Notifier
    private let probeTimeout: Duration?
    private let logger: Logger
    private let probe: @Sendable () async -> Bool

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - notifier: Where `WATCHDOG=1` goes, and where the interval comes from.
    ///   - probeTimeout: How long the probe may take; a quarter of the watchdog interval when `nil`.
    ///   - logger: Where missed pings are reported.
    ///   - probe: Answers `true` when the service is healthy (store and event loops answering).
    public init(
        notifier: Notifier,
        probeTimeout: Duration? = nil,
        logger: Logger,
        probe: @escaping @Sendable () async -> Bool
    ) {
        self.notifier = notifier
        self.probeTimeout = probeTimeout
        self.logger = logger
        self.probe = probe
    }

    /// Probes and pings every half interval until graceful shutdown or cancellation.
    public func run() async throws {
        guard let interval = notifier.watchdogInterval, interval > .zero else {
            logger.debug("systemd watchdog not enabled")
            try? await gracefulShutdown()
            return
        }
        let timeout = probeTimeout ?? interval / 4
        logger.debug(
            "systemd watchdog enabled",
            metadata: [
                "interval_ms": "\(interval / .milliseconds(1))",
                "probe_timeout_ms": "\(timeout / .milliseconds(1))",
            ]
        )
        for await _ in Ticks(period: interval / 2).cancelOnGracefulShutdown() {
            if await Self.isHealthy(probe, timeout: timeout) {
                let outcome = notifier.watchdog()
                if case .failed(let error) = outcome {
                    logger.warning(
                        "could not send WATCHDOG=1",
                        metadata: ["event": "watchdog.failed", "errno": "\(error)"]
                    )
                }
            } else {
                logger.warning(
                    "health probe failed or timed out; not sending WATCHDOG=1",
                    metadata: ["event": "watchdog.missed"]
                )
            }
        }
    }

    /// Runs `probe`, answering `false` if it has not answered `true` within `timeout`.
    static func isHealthy(_ probe: @escaping @Sendable () async -> Bool, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool?.self) { group in
            group.addTask { await probe() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? false
        }
    }
}

/// Yields at once, then every `period`, keeping to a fixed schedule; ends when the task is cancelled.
struct Ticks: AsyncSequence, Sendable {
    typealias Element = Void

    let period: Duration

    func makeAsyncIterator() -> Iterator {
        Iterator(period: period)
    }

    struct Iterator: AsyncIteratorProtocol {
        let period: Duration
        let clock = ContinuousClock()
        var deadline: ContinuousClock.Instant?

        init(period: Duration) {
            self.period = period
        }

        mutating func next() async -> Void? {
            guard !Task.isCancelled else { return nil }
            guard let previous = deadline else {
                deadline = clock.now
                return ()
            }
            var next = previous.advanced(by: period)
            if next < clock.now {
                next = clock.now
            }
            deadline = next
            do {
                try await clock.sleep(until: next)
            } catch {
                return nil
            }
            return ()
        }
    }
}

/// Turns a callback into a health-probe answer that honours cancellation, as ``WatchdogService`` requires.
public enum ProbeCallback {
    /// Starts work that calls back when it has run, and waits for that call.
    ///
    /// - Parameter start: Begins the work, handing it the callback (for example `queue.async(execute:)`).
    /// - Returns: `true` once called back; `false` at once if the task is cancelled first (the work stays queued,
    ///   and its later call is ignored).
    public static func answered(_ start: (@escaping @Sendable () -> Void) -> Void) async -> Bool {
        let answer = OnceAnswer()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard answer.wait(continuation) else { return }
                start { answer.give(true) }
            }
        } onCancel: {
            answer.give(false)
        }
    }
}

/// The first of two possible answers, delivered to one waiter.
private final class OnceAnswer: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Bool, Never>)
        case answered(Bool)
    }

    private let state = Mutex(State.idle)

    /// Registers the waiter; resumes it at once and returns `false` when the answer is already known.
    func wait(_ continuation: CheckedContinuation<Bool, Never>) -> Bool {
        let early: Bool? = state.withLock { state in
            if case .answered(let value) = state { return value }
            state = .waiting(continuation)
            return nil
        }
        guard let early else { return true }
        continuation.resume(returning: early)
        return false
    }

    /// Delivers `value` unless an answer was given before.
    func give(_ value: Bool) {
        let waiter: CheckedContinuation<Bool, Never>? = state.withLock { state in
            switch state {
            case .idle:
                state = .answered(value)
                return nil
            case .waiting(let continuation):
                state = .answered(value)
                return continuation
            case .answered:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }
}
