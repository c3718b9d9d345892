public import ServiceLifecycle
import Logging

/// Where `forgotPassword` leaves an address, so a known and an unknown one take the same time to answer.
///
/// Bounded: when it is full a request is dropped (and logged), which per-email rate limits make rare. A request
/// still queued when the daemon stops is lost — 202 promised nothing more.
public struct PasswordResetQueue: Sendable {
    let continuation: AsyncStream<Email>.Continuation
    let requests: AsyncStream<Email>

    public init(capacity: Int = 1024) {
        (requests, continuation) = AsyncStream.makeStream(of: Email.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Queues a reset for `email`; false when the queue is full.
    func enqueue(_ email: Email) -> Bool {
        if case .enqueued = continuation.yield(email) { return true }
        return false
    }
}

/// Works through the ``PasswordResetQueue`` of an ``AuthService``: a reset code and its mail for every address
/// that has an account.
public struct PasswordResetWorker: Service, CustomStringConvertible {
    let service: AuthService
    let queue: PasswordResetQueue

    /// - Precondition: `service` was made with a `resets` queue.
    public init(service: AuthService) {
        precondition(service.resets != nil, "PasswordResetWorker needs an AuthService with a reset queue")
        self.service = service
        self.queue = service.resets ?? PasswordResetQueue(capacity: 1)
    }

    public func run() async throws {
        for await email in queue.requests.cancelOnGracefulShutdown() {
            do {
                try await service.issueResetCode(for: email)
            } catch {
                service.event(
                    service.logger, .error, "password reset not issued", event: "password.reset_failed",
                    emailKey: email.key, ["error.type": .string(String(describing: type(of: error)))])
            }
        }
    }

    /// A plain name: service-lifecycle logs each service's description, and the default one would print the
    /// services it holds, keys included.
    public var description: String { "PasswordResetWorker" }
}
