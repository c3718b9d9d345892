public import Foundation
public import Logging
public import PorteroCore
public import ServiceLifecycle

/// Delivers queued mail: wakes when a route queues a message (and every few seconds), sends each through the
/// configured transport, and records `mail.done` so it is not sent twice. A failed delivery is logged as
/// `mail.failed` (never with the code) and retried with back-off, up to `maxAttempts`.
public struct OutboxWorker: Service {
    let store: any RecordStore<AuthState>
    let mailer: any Mailer
    let wakeups: AsyncStream<Void>
    let wake: AsyncStream<Void>.Continuation
    let logger: Logger
    let maxAttempts: Int

    /// - Parameters:
    ///   - wakeups: the stream of ``makeWakeups()``; `wake` its continuation.
    public init(
        store: any RecordStore<AuthState>, mailer: any Mailer, wakeups: AsyncStream<Void>,
        wake: AsyncStream<Void>.Continuation, logger: Logger, maxAttempts: Int = 5
    ) {
        self.store = store
        self.mailer = mailer
        self.wakeups = wakeups
        self.wake = wake
        self.logger = logger
        self.maxAttempts = maxAttempts
    }

    /// The continuation the use cases call (through `AuthService`'s `mailQueued`) after queueing mail.
    public static func makeWakeups() -> (AsyncStream<Void>, AsyncStream<Void>.Continuation) {
        AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func run() async throws {
        var attempts: [UUID: (count: Int, next: ContinuousClock.Instant)] = [:]
        let wake = self.wake
        await withThrowingTaskGroup(of: Void.self) { group in
            // A tick every two seconds, so retries happen without new mail arriving.
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(2))
                    wake.yield()
                }
            }
            await deliverPending(attempts: &attempts)
            for await _ in wakeups.cancelOnGracefulShutdown() {
                await deliverPending(attempts: &attempts)
            }
            group.cancelAll()
        }
    }

    private func deliverPending(attempts: inout [UUID: (count: Int, next: ContinuousClock.Instant)]) async {
        let pending = await store.state.outbox.values.sorted { $0.queuedAt < $1.queuedAt }
        for mail in pending {
            if let attempt = attempts[mail.id], attempt.next > .now { continue }
            var metadata: Logger.Metadata = [
                "kind": .string(mail.kind), "mail_id": .string(mail.id.uuidString.lowercased()),
            ]
            if let userID = mail.userID { metadata["user_id"] = .string(userID.uuidString.lowercased()) }
            do {
                try await mailer.deliver(mail)
                attempts[mail.id] = nil
                try? await store.write { $0.append(.mailDone(.init(id: mail.id, delivered: true))) }
                logger.debug("mail delivered", metadata: metadata.merging(["event": "mail.sent"]) { $1 })
            } catch {
                let count = (attempts[mail.id]?.count ?? 0) + 1
                metadata["attempt"] = .stringConvertible(count)
                metadata["error"] = .string(String(describing: error))
                logger.error("mail delivery failed", metadata: metadata.merging(["event": "mail.failed"]) { $1 })
                if count >= maxAttempts {
                    attempts[mail.id] = nil
                    try? await store.write { $0.append(.mailDone(.init(id: mail.id, delivered: false))) }
                } else {
                    attempts[mail.id] = (count, .now + .seconds(1 << min(count, 6)))
                }
            }
        }
    }
}

extension OutboxWorker: CustomStringConvertible {
    /// A plain name: service-lifecycle logs each service's description.
    public var description: String { "OutboxWorker" }
}
