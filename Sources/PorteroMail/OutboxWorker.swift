public import Foundation
public import Logging
public import PorteroCore
public import ServiceLifecycle

/// Delivers queued mail, durably: wakes when a use case queues a message (and every second), sends each due message
/// through the configured transport, several at once up to a bound so one slow receiver does not hold up the rest,
/// and records every outcome in the store.
///
/// A failed attempt is recorded (`mail.attempted`, with the time of the next one) and logged as `mail.deferred` at
/// `warning`; attempts back off exponentially with jitter up to ``Policy/maxDelay`` (at most a minute). A message is
/// retried until it is delivered or its code expires (``OutboxMail/expiresAt``, or ``Policy/lifetime`` after
/// queueing for mail without a code); then it is recorded dead and logged as `mail.failed` at `error`. Because the
/// attempts live in the store, a restart continues the back-off instead of starting over. Delivery is
/// at-least-once: a crash between a transport's acceptance and the `mail.done` record sends the message again,
/// with the same `Message-ID`. Log lines carry the kind, id and user id, never the body or the code.
public struct OutboxWorker: Service {
    /// How often and how long to retry, and how many messages go out at once.
    public struct Policy: Sendable, Equatable {
        /// The delay after the first failed attempt; each further failure doubles it.
        public var firstDelay: Duration
        /// The longest wait between two attempts; at most a minute.
        public var maxDelay: Duration
        /// How long mail without an expiry (``OutboxMail/expiresAt`` nil) is retried after it was queued.
        public var lifetime: Duration
        /// How many messages are sent at the same time.
        public var concurrency: Int

        public init(
            firstDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(60), lifetime: Duration = .seconds(900),
            concurrency: Int = 8
        ) {
            self.firstDelay = min(firstDelay, maxDelay)
            self.maxDelay = min(maxDelay, .seconds(60))
            self.lifetime = lifetime
            self.concurrency = max(1, concurrency)
        }

        /// The wait after the `attempts`-th failure: `firstDelay · 2^(attempts-1)` capped at `maxDelay`, then drawn
        /// uniformly from its upper half so that messages failing together do not retry together.
        public func delay(afterAttempts attempts: Int, random: Double = Double.random(in: 0...1)) -> Duration {
            let exponent = min(max(attempts - 1, 0), 30)
            let base = min(seconds(firstDelay) * Double(1 << exponent), seconds(maxDelay))
            return .milliseconds(Int64((base / 2 + base / 2 * min(max(random, 0), 1)) * 1000))
        }

        private func seconds(_ duration: Duration) -> Double {
            let parts = duration.components
            return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
        }
    }

    let store: any RecordStore<AuthState>
    let mailer: any Mailer
    let wakeups: AsyncStream<Void>
    let logger: Logger
    let policy: Policy
    let clock: TimeSource

    /// - Parameters:
    ///   - wakeups: the stream of ``makeWakeups()``, whose continuation the use cases call after queueing mail.
    public init(
        store: any RecordStore<AuthState>, mailer: any Mailer, wakeups: AsyncStream<Void>, logger: Logger,
        policy: Policy = Policy(), clock: TimeSource = .system
    ) {
        self.store = store
        self.mailer = mailer
        self.wakeups = wakeups
        self.logger = logger
        self.policy = policy
        self.clock = clock
    }

    /// The continuation the use cases call (through `AuthService`'s `mailQueued`) after queueing mail.
    public static func makeWakeups() -> (AsyncStream<Void>, AsyncStream<Void>.Continuation) {
        AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    private enum Event: Sendable {
        case wake
        case finished(UUID)
    }

    public func run() async throws {
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let wakeups = self.wakeups
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in wakeups { sink.yield(.wake) }
            }
            // A tick every second, so retries fall due without new mail arriving.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    sink.yield(.wake)
                }
            }
            var sending: Set<UUID> = []
            // Held back locally too, in case the store refused to record an attempt.
            var notBefore: [UUID: Date] = [:]
            sink.yield(.wake)
            for await event in events.cancelOnGracefulShutdown() {
                if case .finished(let id) = event { sending.remove(id) }
                let now = clock.now()
                let due = await store.state.outbox.values.filter { mail in
                    mail.isPending && !sending.contains(mail.id)
                        && (mail.nextAttemptAt ?? .distantPast) <= now && (notBefore[mail.id] ?? .distantPast) <= now
                }.sorted { ($0.nextAttemptAt ?? $0.queuedAt) < ($1.nextAttemptAt ?? $1.queuedAt) }
                notBefore = notBefore.filter { $0.value > now }
                for mail in due {
                    if now >= deadline(of: mail) {
                        await giveUp(mail)
                        continue
                    }
                    guard sending.count < policy.concurrency else { break }
                    sending.insert(mail.id)
                    notBefore[mail.id] = now.addingTimeInterval(seconds(policy.delay(afterAttempts: 1, random: 0)))
                    group.addTask {
                        await attempt(mail)
                        sink.yield(.finished(mail.id))
                    }
                }
            }
            group.cancelAll()
        }
        await mailer.shutdown()
    }

    /// When retrying stops: the code's expiry, or the outbox's lifetime after queueing (or after an admin's retry).
    func deadline(of mail: OutboxMail) -> Date {
        mail.expiresAt ?? (mail.retriedAt ?? mail.queuedAt).addingTimeInterval(seconds(policy.lifetime))
    }

    private func metadata(_ mail: OutboxMail, event: String) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "event": .string(event), "kind": .string(mail.kind), "mail_id": .string(mail.id.uuidString.lowercased()),
        ]
        if let userID = mail.userID { metadata["user_id"] = .string(userID.uuidString.lowercased()) }
        return metadata
    }

    /// One delivery attempt, and its record.
    private func attempt(_ mail: OutboxMail) async {
        var metadata = metadata(mail, event: "mail.sent")
        MailMetrics.attempted()
        do {
            try await mailer.deliver(mail)
            MailMetrics.delivered()
            try? await store.write { $0.append(.mailDone(.init(id: mail.id, delivered: true))) }
            metadata["attempt"] = .stringConvertible(mail.attempts + 1)
            logger.info("mail delivered", metadata: metadata)
        } catch {
            // A shutdown interrupted it: not the receiver's failure, and the next start sends it again.
            if Task.isCancelled { return }
            MailMetrics.attemptFailed()
            let attempts = mail.attempts + 1
            let wait = policy.delay(afterAttempts: attempts)
            let next = clock.now().addingTimeInterval(seconds(wait))
            let line = String(describing: error)
            try? await store.write {
                $0.append(.mailAttempted(.init(id: mail.id, attempts: attempts, nextAttemptAt: next, error: line)))
            }
            metadata["event"] = "mail.deferred"
            metadata["attempt"] = .stringConvertible(attempts)
            metadata["retry_in_ms"] = .stringConvertible(Int(seconds(wait) * 1000))
            metadata["error"] = .string(line)
            logger.warning("mail delivery failed, will retry", metadata: metadata)
        }
    }

    /// Records `mail` dead: its code expired before any attempt got through.
    private func giveUp(_ mail: OutboxMail) async {
        try? await store.write { $0.append(.mailDone(.init(id: mail.id, delivered: false))) }
        MailMetrics.gaveUp()
        var metadata = metadata(mail, event: "mail.failed")
        metadata["attempts"] = .stringConvertible(mail.attempts)
        if let error = mail.lastError { metadata["error"] = .string(error) }
        logger.error("mail not delivered before its code expired; given up", metadata: metadata)
    }

    private func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}

extension OutboxWorker: CustomStringConvertible {
    /// A plain name: service-lifecycle logs each service's description.
    public var description: String { "OutboxWorker" }
}
