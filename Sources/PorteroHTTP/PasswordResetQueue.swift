import Logging
import PorteroCore
public import PorteroStore
public import ServiceLifecycle

/// `/password/forgot` answers 202 at once and hands the address here, so a known and an unknown address take
/// the same time to answer (issuing a code means a durable write; an unknown address has nothing to write).
///
/// The queue is bounded: when it is full a request is dropped (and logged), which per-email and per-address rate
/// limits make rare. A request still queued when the daemon stops is lost — 202 promised nothing more.
public struct PasswordResetQueue: Sendable {
    let continuation: AsyncStream<Email>.Continuation
    let requests: AsyncStream<Email>

    public init(capacity: Int = 1024) {
        (requests, continuation) = AsyncStream.makeStream(of: Email.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Queues a reset for `email`; false when the queue is full.
    @discardableResult
    func enqueue(_ email: Email) -> Bool {
        if case .enqueued = continuation.yield(email) { return true }
        return false
    }
}

/// Works through ``PasswordResetQueue``: a reset code and its mail for every address that has an account.
public struct PasswordResetService<Store: RecordStore>: Service where Store.State == StoreState {
    let queue: PasswordResetQueue
    let services: AuthServices<Store>

    public init(queue: PasswordResetQueue, services: AuthServices<Store>) {
        self.queue = queue
        self.services = services
    }

    public func run() async throws {
        for await email in queue.requests.cancelOnGracefulShutdown() {
            do {
                try await issue(for: email)
            } catch {
                services.event(
                    .error, "password reset not issued", event: "password.reset_failed", emailKey: email.key,
                    ["error.type": .string(String(describing: type(of: error)))])
            }
        }
    }

    func issue(for email: Email) async throws {
        let now = services.now()
        let services = self.services
        let user = try await services.write { transaction -> User? in
            guard let user = transaction.state.user(emailKey: email.key) else { return nil }
            for record in services.issueCode(for: user, purpose: .resetPassword, now: now) {
                transaction.append(record)
            }
            return user
        }
        if user != nil { services.mailQueued() }
    }
}

extension PasswordResetService: CustomStringConvertible {
    /// A plain name: service-lifecycle logs each service's description, and the default one would print the
    /// services it holds, keys included.
    public var description: String { "PasswordResetService" }
}
