public import Foundation

/// What an admin may ask of the daemon (SPEC §3 `/admin/v1`, through the Unix socket). Who may ask is the
/// adapter's business (`SO_PEERCRED`); what the answers are lives here.
public struct AdminService: Sendable {
    let store: any RecordStore<AuthState>
    let clock: TimeSource
    /// The files of a backup; nil where there are none to copy (a MemoryStore): backup answers 503.
    let backups: (any BackupSource)?

    public init(store: any RecordStore<AuthState>, clock: TimeSource = .system, backups: (any BackupSource)? = nil) {
        self.store = store
        self.clock = clock
        self.backups = backups
    }

    /// Counts of what the store holds.
    public struct Stats: Sendable, Equatable {
        public var users: Int
        public var verifiedUsers: Int
        /// Sessions that have not expired.
        public var sessions: Int
        /// Emails locked now.
        public var lockedEmails: Int
        public var revokedAccessTokens: Int
        public var queuedMail: Int
        /// The seq of the last durable record.
        public var lastSeq: UInt64
        /// Whether the store accepts writes.
        public var writable: Bool
    }

    public func stats() async -> Stats {
        let now = clock.now()
        // Counted in place, without a copy of the state (a copy kept while counting would make the next record
        // copy every table) and without the temporary arrays `filter` makes (200 MB at a million users).
        let counts = store.withCurrentState { state in
            (
                users: state.users.count,
                verified: state.users.values.lazy.filter(\.emailVerified).count,
                sessions: state.sessions.values.lazy.filter { $0.expiresAt > now }.count,
                locked: state.lockouts.values.lazy.filter { ($0.lockedUntil ?? .distantPast) > now }.count,
                revoked: state.revokedTokenIDs.count,
                queued: state.outbox.values.lazy.filter(\.isPending).count
            )
        }
        return Stats(
            users: counts.users,
            verifiedUsers: counts.verified,
            sessions: counts.sessions,
            lockedEmails: counts.locked,
            revokedAccessTokens: counts.revoked,
            queuedMail: counts.queued,
            lastSeq: await store.lastSeq,
            writable: await store.failure == nil
        )
    }
}
