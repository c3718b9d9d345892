public import Foundation

/// The one-time code rule: 6 digits, kept only as a keyed hash bound to its user and purpose, alive for
/// `code_ttl`, dead after `codeMaxAttempts` wrong tries, spent by its first right use; a new code replaces the old.
public struct OneTimeCodes: Sendable {
    /// HMAC key of the stored digests (never logged).
    let key: [UInt8]
    let ttl: TimeSpan
    let maxAttempts: Int

    public init(key: [UInt8], ttl: TimeSpan, maxAttempts: Int) {
        self.key = key
        self.ttl = ttl
        self.maxAttempts = maxAttempts
    }

    /// What checking a code decided, and the records that say so.
    public struct Check: Sendable {
        public var matched: Bool
        public var records: [AuthRecord]
    }

    /// The keyed hash a code is stored as.
    func digest(_ code: String, userID: UUID, purpose: CodePurpose) -> String {
        Secrets.hmacHex(key: key, "\(userID.uuidString.lowercased())/\(purpose.rawValue)/\(code)")
    }

    /// A new code for `user`: the records to append (the code and its queued mail). The plain code exists only in
    /// the queued mail.
    func issue(for user: User, purpose: CodePurpose, now: Date, mail: MailComposer) -> [AuthRecord] {
        let code = Secrets.makeCode()
        let issued = OneTimeCode(
            userID: user.id,
            purpose: purpose,
            digest: digest(code, userID: user.id, purpose: purpose),
            issuedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(ttl.seconds))
        )
        let composed = mail.compose(purpose, code, user.email)
        let queued = OutboxMail(
            id: UUID(),
            to: user.email,
            subject: composed.subject,
            text: composed.text,
            kind: purpose.rawValue,
            code: code,
            userID: user.id,
            queuedAt: now,
            expiresAt: issued.expiresAt
        )
        return [.codeIssued(issued), .mailQueued(queued)]
    }

    /// Checks `code` in constant time against the user's live code: a match spends it, an expired code is dropped,
    /// a wrong one counts an attempt (the code dies at the last).
    func check(_ code: String, user: User, purpose: CodePurpose, state: AuthState, now: Date) -> Check {
        guard let stored = state.code(userID: user.id, purpose: purpose) else {
            return Check(matched: false, records: [])
        }
        let spent = AuthRecord.codeConsumed(.init(userID: user.id, purpose: purpose))
        guard stored.expiresAt > now else { return Check(matched: false, records: [spent]) }
        if Secrets.constantTimeEquals(stored.digest, digest(code, userID: user.id, purpose: purpose)) {
            return Check(matched: true, records: [spent])
        }
        return Check(
            matched: false,
            records: [.codeFailed(.init(userID: user.id, purpose: purpose, maxAttempts: maxAttempts))]
        )
    }
}

/// Subject and text of a code mail, built by the mail templates.
public struct ComposedMail: Sendable, Equatable {
    public var subject: String
    public var text: String

    public init(subject: String, text: String) {
        self.subject = subject
        self.text = text
    }
}

/// Builds the mail that carries a code (`verify_email` / `reset_password`) to an address, and the notices that
/// carry none (``MailNotice``).
public struct MailComposer: Sendable {
    let compose: @Sendable (_ purpose: CodePurpose, _ code: String, _ to: String) -> ComposedMail
    let composeNotice: @Sendable (_ notice: MailNotice, _ to: String, _ at: Date) -> ComposedMail

    /// - Parameter notice: builds a notice; by default a plain English text.
    public init(
        _ compose: @escaping @Sendable (_ purpose: CodePurpose, _ code: String, _ to: String) -> ComposedMail,
        notice: @escaping @Sendable (_ notice: MailNotice, _ to: String, _ at: Date) -> ComposedMail =
            MailComposer.plainNotice
    ) {
        self.compose = compose
        self.composeNotice = notice
    }

    /// A notice with a fixed subject and its kind as the text (for tests and callers without templates).
    public static let plainNotice: @Sendable (MailNotice, String, Date) -> ComposedMail = { notice, _, _ in
        ComposedMail(subject: notice.rawValue, text: notice.rawValue)
    }
}
