import Foundation
import Logging

/// What `portero import` did with one batch.
public struct ImportReport: Sendable, Equatable {
    /// Accounts created.
    public var imported: Int
    /// Existing accounts that changed.
    public var updated: Int
    /// Existing accounts the item did not change (a file imported again).
    public var unchanged: Int
    /// Items skipped, with why.
    public var skipped: [Skipped]

    public init(imported: Int = 0, updated: Int = 0, unchanged: Int = 0, skipped: [Skipped] = []) {
        self.imported = imported
        self.updated = updated
        self.unchanged = unchanged
        self.skipped = skipped
    }

    /// An item that was not imported: its position in the batch (from 0) and a sentence naming the field.
    public struct Skipped: Sendable, Equatable {
        public var index: Int
        public var reason: String

        public init(index: Int, reason: String) {
            self.index = index
            self.reason = reason
        }
    }
}

extension AdminService {
    /// Most users one import request may carry.
    public static let importBatchLimit = 1000

    /// Imports users (`portero import`), one transaction for the batch with one `admin.action` record
    /// (`users_imported`). Each item is `{email, password_hash?, name?, phone?, email_verified?, roles?,
    /// created_at?}`; an item that is not valid is skipped and reported with its reason, the others go in.
    ///
    /// - An address without an account (compared as logins compare it) becomes a new account: the hash kept as it
    ///   is (none: no password until a reset), `email_verified` false unless given, roles `["user"]` unless given,
    ///   `created_at` now unless given. An unverified imported account does not expire
    ///   (`registration.unverified_ttl` is for sign-ups).
    /// - An address with an account is updated with the fields given: `name`, `phone` (an empty string clears),
    ///   `roles` (replaced), `email_verified` only from false to true (never un-verified); `password_hash` only
    ///   while the account still holds the hash an import gave (never after a login, change or reset, so an import
    ///   run again cannot bring back an old password); `created_at` is kept. Nothing different: unchanged.
    /// - An address given twice in one batch: the later item updates what the earlier one made.
    public func importUsers(_ items: [JSONValue], peer: AdminPeer) async throws -> ImportReport {
        guard items.count <= Self.importBatchLimit else {
            throw PorteroError.validation(["users": "at most \(Self.importBatchLimit) users a request"])
        }
        let now = clock.now()
        var report = ImportReport()
        var valid: [ImportedUser] = []
        for (index, item) in items.enumerated() {
            do {
                valid.append(try ImportedUser(parsing: item, now: now))
            } catch {
                report.skipped.append(.init(index: index, reason: error.reason))
            }
        }
        let entries = valid
        let counts = try await write(peer.logger) { transaction -> (Int, Int, Int) in
            var (imported, updated, unchanged) = (0, 0, 0)
            for entry in entries {
                let existing = transaction.state.user(emailKey: entry.email.key)
                if let existing, !existing.isExpiredUnverified(at: now) {
                    let records = entry.changes(to: existing, now: now)
                    for record in records { transaction.append(record) }
                    if records.isEmpty { unchanged += 1 } else { updated += 1 }
                } else {
                    // An unverified sign-up past its time is gone already; the import takes the address.
                    if let existing { transaction.append(.userDeleted(.init(userID: existing.id, at: now))) }
                    transaction.append(.userRegistered(entry.newUser(now: now)))
                    imported += 1
                }
            }
            transaction.append(
                .adminAction(
                    .init(
                        action: "users_imported", userID: nil, peerUID: peer.uid, peerPID: peer.pid,
                        peerUser: peer.userName, at: now, imported: imported, updated: updated)))
            return (imported, updated, unchanged)
        }
        (report.imported, report.updated, report.unchanged) = counts
        Self.event(
            peer, "users_imported", "users imported by an admin", userID: nil,
            [
                "imported": .stringConvertible(report.imported), "updated": .stringConvertible(report.updated),
                "unchanged": .stringConvertible(report.unchanged), "skipped": .stringConvertible(report.skipped.count),
            ])
        return report
    }
}
