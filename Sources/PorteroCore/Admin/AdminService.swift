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
        let state = await store.state
        let now = clock.now()
        let users = state.users.values
        return Stats(
            users: users.count,
            verifiedUsers: users.filter(\.emailVerified).count,
            sessions: state.sessions.values.filter { $0.expiresAt > now }.count,
            lockedEmails: state.lockouts.values.filter { ($0.lockedUntil ?? .distantPast) > now }.count,
            revokedAccessTokens: state.revokedTokenIDs.count,
            queuedMail: state.outbox.values.filter(\.isPending).count,
            lastSeq: await store.lastSeq,
            writable: await store.failure == nil
        )
    }
}
