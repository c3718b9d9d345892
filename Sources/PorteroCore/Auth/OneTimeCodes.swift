import Foundation

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
    /// the queued mail. `kind` and `lifetime` default to the purpose's mail and `code_ttl` (an invitation is a
    /// reset code in an invitation's words, living longer).
    func issue(
        for user: User, purpose: CodePurpose, now: Date, mail: MailComposer, kind: MailKind? = nil,
        lifetime: TimeSpan? = nil
    ) -> [AuthRecord] {
        let ttl = lifetime ?? self.ttl
        let kind = kind ?? MailKind(purpose)
        let code = Secrets.makeCode()
        let issued = OneTimeCode(
            userID: user.id,
            purpose: purpose,
            digest: digest(code, userID: user.id, purpose: purpose),
            issuedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(ttl.seconds))
        )
        let composed = mail.compose(
            MailFacts(kind: kind, user: user, code: code, lifetime: ttl, at: now))
        var queued = OutboxMail(
            id: UUID(),
            to: user.email,
            subject: composed.subject,
            text: composed.text,
            kind: kind.rawValue,
            code: code,
            userID: user.id,
            queuedAt: now,
            expiresAt: issued.expiresAt
        )
        queued.html = composed.html
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
