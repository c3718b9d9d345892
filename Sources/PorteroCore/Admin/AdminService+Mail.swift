public import Foundation
import Logging
import PorteroFormat

/// A message of the outbox as an admin sees it: who it is for and how delivery goes, never its body or code.
public struct AdminMail: Sendable, Equatable {
    /// Where a message stands.
    public enum State: String, Sendable {
        /// Not tried yet.
        case queued
        /// At least one attempt failed; tried again at ``AdminMail/nextAttemptAt``.
        case retrying
        /// Given up (its code expired, or it was withdrawn); leaves the outbox at the next snapshot.
        case dead
    }

    public var id: UUID
    /// `verify_email`, `reset_password`, `password_changed`, …
    public var kind: String
    public var to: String
    public var userID: UUID?
    public var state: State
    /// Failed attempts so far.
    public var attempts: Int
    public var queuedAt: Date
    /// Not before this time (nil: due now, or dead).
    public var nextAttemptAt: Date?
    /// When its code expires (nil: it carries no code).
    public var expiresAt: Date?
    /// The transport's error line of the last failed attempt (never the body or the code).
    public var lastError: String?

    init?(_ mail: OutboxMail) {
        let state: State
        switch mail.outcome {
        case .delivered: return nil
        case .dead: state = .dead
        case nil: state = mail.attempts == 0 ? .queued : .retrying
        }
        self.init(
            id: mail.id, kind: mail.kind, to: mail.to, userID: mail.userID, state: state, attempts: mail.attempts,
            queuedAt: mail.queuedAt, nextAttemptAt: mail.nextAttemptAt, expiresAt: mail.expiresAt,
            lastError: mail.lastError)
    }

    public init(
        id: UUID, kind: String, to: String, userID: UUID?, state: State, attempts: Int, queuedAt: Date,
        nextAttemptAt: Date?, expiresAt: Date?, lastError: String?
    ) {
        self.id = id
        self.kind = kind
        self.to = to
        self.userID = userID
        self.state = state
        self.attempts = attempts
        self.queuedAt = queuedAt
        self.nextAttemptAt = nextAttemptAt
        self.expiresAt = expiresAt
        self.lastError = lastError
    }
}

extension AdminService {
    /// The outbox: queued, retrying and dead messages (delivered ones are not listed), oldest first. Dead messages
    /// stay until the next snapshot.
    public func mail() async -> [AdminMail] {
        await store.state.outbox.values.compactMap(AdminMail.init)
            .sorted { ($0.queuedAt, $0.id.uuidString) < ($1.queuedAt, $1.id.uuidString) }
    }

    /// Queues a retrying or dead message again, due now (`portero mail retry`); the outbox picks it up within a
    /// second. Refused with 409 `mail_not_retryable` when sending it is of no use: it was delivered, its account
    /// was deleted, its code has expired (the user asks for a new one), or its code was withdrawn when it was given
    /// up. 404 `not_found` for an id the outbox does not hold. Logged as `admin.mail_retried` and recorded.
    public func retryMail(id: UUID, peer: AdminPeer) async throws -> AdminMail {
        let now = clock.now()
        let retried = try await write(peer.logger) { transaction -> OutboxMail in
            let state = transaction.state
            guard let mail = state.outbox[id] else {
                throw PorteroError(.notFound, "No such message in the outbox.")
            }
            func refuse(_ why: String) -> PorteroError {
                PorteroError(.mailNotRetryable, "This message cannot be sent again: \(why).")
            }
            if mail.outcome == .delivered { throw refuse("it was delivered") }
            if let userID = mail.userID, state.user(id: userID) == nil { throw refuse("its account was deleted") }
            if let expiresAt = mail.expiresAt, expiresAt <= now {
                throw refuse("its code expired at \(Self.timestamp(expiresAt)); the user can ask for a new one")
            }
            if mail.outcome == .dead, mail.text.isEmpty {
                throw refuse("its code was withdrawn when it was given up; the user can ask for a new one")
            }
            transaction.append(.mailRetried(.init(id: id, at: now)))
            transaction.append(
                .adminAction(
                    .init(
                        action: "mail_retried", userID: mail.userID, mailID: id, peerUID: peer.uid,
                        peerPID: peer.pid, peerUser: peer.userName, at: now)))
            return transaction.state.outbox[id] ?? mail
        }
        Self.event(
            peer, "mail_retried", "mail queued again by an admin", userID: retried.userID,
            ["mail_id": .string(id.uuidString.lowercased()), "kind": .string(retried.kind)])
        guard let view = AdminMail(retried) else { throw PorteroError(.notFound, "No such message in the outbox.") }
        return view
    }

    private static func timestamp(_ date: Date) -> String {
        UTCTimestamp.seconds(date)
    }
}
