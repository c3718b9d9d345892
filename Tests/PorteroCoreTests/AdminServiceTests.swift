import Foundation
import Logging
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

/// The admin use cases against a MemoryStore with a test clock: each rule, and each action's audit record and
/// `admin.<action>` event.
@Suite("Use cases: admin users and sessions")
struct AdminServiceTests {
    struct Fixture {
        let harness: AuthHarness
        let admin: AdminService
        let log = StoreLogRecorder()

        init() async throws {
            harness = try await AuthHarness()
            admin = AdminService(store: harness.store, clock: harness.clock.source)
        }

        var peer: AdminPeer { AdminPeer(uid: 1000, pid: 4242, userName: "carla", logger: log.logger) }

        func ref(_ text: String) throws -> UserReference { try UserReference(parsing: text) }

        /// The audit records in the store, in order.
        func audits() async -> [AuthRecord.AdminAudit] {
            await harness.store.records.compactMap {
                if case .adminAction(let audit) = $0 { audit } else { nil }
            }
        }
    }

    @Test func listFiltersAndPagesWithACursor() async throws {
        let fixture = try await Fixture()
        for index in 0..<5 {
            _ = try await fixture.harness.verifiedUser("user\(index)@example.com")
            fixture.harness.clock.advance(by: 1)
        }
        try await fixture.harness.register("pending@example.com")
        try await fixture.harness.register("other@example.org")

        let all = try await fixture.admin.users(UserQuery())
        #expect(all.users.map(\.user.email).count == 7)
        #expect(all.nextCursor == nil)

        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await fixture.admin.users(UserQuery(limit: 2, cursor: cursor))
            #expect(page.users.count <= 2)
            seen += page.users.map(\.user.email)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == all.users.map(\.user.email))
        #expect(seen.first == "user0@example.com")

        #expect(try await fixture.admin.users(UserQuery(emailPrefix: "USER")).users.count == 5)
        #expect(
            try await fixture.admin.users(UserQuery(verified: false)).users.map(\.user.email).sorted() == [
                "other@example.org", "pending@example.com",
            ])
        _ = try await fixture.admin.lock(try fixture.ref("user3@example.com"), peer: fixture.peer)
        #expect(try await fixture.admin.users(UserQuery(locked: true)).users.map(\.user.email) == ["user3@example.com"])
        _ = try await fixture.admin.setRoles(try fixture.ref("user1@example.com"), roles: ["admin"], peer: fixture.peer)
        #expect(
            try await fixture.admin.users(UserQuery(role: "admin")).users.map(\.user.email) == ["user1@example.com"])

        await #expect(throws: PorteroError.validation(["cursor": "is not a cursor this server gave"])) {
            _ = try await fixture.admin.users(UserQuery(cursor: "nonsense"))
        }
        await #expect(throws: PorteroError.validation(["limit": "must be between 1 and 500"])) {
            _ = try await fixture.admin.users(UserQuery(limit: 0))
        }
    }

    @Test func verifyMarksVerifiedOnceAndKillsThePendingCode() async throws {
        let fixture = try await Fixture()
        let user = try await fixture.harness.register("ana@example.com")
        let verified = try await fixture.admin.verify(.id(user.id), peer: fixture.peer)
        #expect(verified.user.emailVerified)
        #expect(await fixture.harness.store.state.code(userID: user.id, purpose: .verifyEmail) == nil)
        _ = try await fixture.harness.login("ana@example.com")
        await #expect(throws: PorteroError(.alreadyVerified, "This email address is already verified.")) {
            _ = try await fixture.admin.verify(try fixture.ref("ANA@example.com"), peer: fixture.peer)
        }
        await #expect(throws: PorteroError(.userNotFound, "No such user.")) {
            _ = try await fixture.admin.verify(try fixture.ref("nobody@example.com"), peer: fixture.peer)
        }
        let audits = await fixture.audits()
        #expect(audits.count == 1)
        #expect(audits.first?.action == "user_verified" && audits.first?.userID == user.id)
        #expect(audits.first?.peerUID == 1000 && audits.first?.peerPID == 4242 && audits.first?.peerUser == "carla")
        let event = fixture.log.entries.first { $0.metadata["event"] == "admin.user_verified" }
        #expect(event?.level == .notice)
        #expect(event?.metadata["peer_uid"] == "1000" && event?.metadata["peer_pid"] == "4242")
        #expect(event?.metadata["peer_user"] == "carla")
        #expect(event?.metadata["user_id"] == user.id.uuidString.lowercased())
    }

    @Test func lockRevokesSessionsAndOutlastsAResetUntilAnAdminUnlocks() async throws {
        let fixture = try await Fixture()
        let signedIn = try await fixture.harness.verifiedUser("ana@example.com")
        let locked = try await fixture.admin.lock(try fixture.ref("ana@example.com"), peer: fixture.peer)
        #expect(locked.lockedByAdmin && locked.lockedUntil != nil && locked.sessions == 0)
        await #expect(throws: PorteroError(.tokenRevoked, "The access token has been revoked.")) {
            _ = try await fixture.harness.auth.authenticate(accessToken: signedIn.accessToken)
        }
        await #expect(throws: PorteroError.self) { _ = try await fixture.harness.login("ana@example.com") }

        // A password reset (which ends a lock of failed logins) does not end an admin's lock.
        var budget = RateBudget.unlimited(.forgot)
        let email = try fixture.harness.email("ana@example.com")
        try await fixture.harness.auth.forgotPassword(email, caller: fixture.harness.caller(), budget: &budget)
        let code = try #require(await fixture.harness.mailedCode(to: "ana@example.com", .resetPassword))
        try await fixture.harness.resetPassword(
            email: email, code: code, new: try fixture.harness.auth.newPassword("another long secret"),
            caller: fixture.harness.caller())
        do {
            _ = try await fixture.harness.login("ana@example.com", "another long secret")
            Issue.record("a reset ended an admin's lock")
        } catch let error as PorteroError {
            #expect(error.code == .accountLocked)
        }
        // Nor does time.
        fixture.harness.clock.advance(by: 400 * 86400)
        #expect(try await fixture.admin.user(try fixture.ref("ana@example.com")).lockedByAdmin)

        let unlocked = try await fixture.admin.unlock(try fixture.ref("ana@example.com"), peer: fixture.peer)
        #expect(unlocked.lockedUntil == nil && !unlocked.lockedByAdmin)
        _ = try await fixture.harness.login("ana@example.com", "another long secret")
        #expect(await fixture.audits().map(\.action) == ["user_locked", "user_unlocked"])
    }

    @Test func aLockedUnverifiedAccountCannotSignInByVerifying() async throws {
        let fixture = try await Fixture()
        try await fixture.harness.register("ana@example.com")
        _ = try await fixture.admin.lock(try fixture.ref("ana@example.com"), peer: fixture.peer)
        let code = try #require(await fixture.harness.mailedCode(to: "ana@example.com", .verifyEmail))
        var budget = RateBudget.unlimited(.verify)
        do {
            _ = try await fixture.harness.auth.verifyEmail(
                .email(try fixture.harness.email("ana@example.com")), code: code, caller: fixture.harness.caller(),
                budget: &budget)
            Issue.record("a locked account signed in by verifying")
        } catch let error as PorteroError {
            #expect(error.code == .accountLocked)
        }
        #expect(await fixture.harness.store.state.sessions.isEmpty)
    }

    @Test func unlockEndsALockOfFailedLogins() async throws {
        let fixture = try await Fixture()
        _ = try await fixture.harness.verifiedUser("ana@example.com")
        for _ in 0..<5 { _ = try? await fixture.harness.login("ana@example.com", "wrong password here") }
        #expect(try await fixture.admin.user(try fixture.ref("ana@example.com")).lockedUntil != nil)
        _ = try await fixture.admin.unlock(try fixture.ref("ana@example.com"), peer: fixture.peer)
        _ = try await fixture.harness.login("ana@example.com")
    }

    @Test func setRolesValidatesAndReplaces() async throws {
        let fixture = try await Fixture()
        let user = try await fixture.harness.verifiedUser("ana@example.com").user
        let updated = try await fixture.admin.setRoles(
            .id(user.id), roles: ["admin", "billing:read", "admin"], peer: fixture.peer)
        #expect(updated.user.roles == ["admin", "billing:read"])
        for bad in [[""], ["has space"], [String(repeating: "r", count: 65)], (0..<33).map { "r\($0)" }] {
            await #expect(throws: PorteroError.self) {
                _ = try await fixture.admin.setRoles(.id(user.id), roles: bad, peer: fixture.peer)
            }
        }
        #expect(try await fixture.admin.user(.id(user.id)).user.roles == ["admin", "billing:read"])
        #expect(try await fixture.admin.setRoles(.id(user.id), roles: [], peer: fixture.peer).user.roles == [])
    }

    @Test func deleteRemovesEverythingAndTheAddressCanRegisterAgain() async throws {
        let fixture = try await Fixture()
        let signedIn = try await fixture.harness.verifiedUser("ana@example.com")
        _ = try await fixture.admin.lock(.id(signedIn.user.id), peer: fixture.peer)
        _ = try await fixture.admin.unlock(.id(signedIn.user.id), peer: fixture.peer)
        let again = try await fixture.harness.login("ana@example.com")
        var budget = RateBudget.unlimited(.forgot)
        try await fixture.harness.auth.forgotPassword(
            try fixture.harness.email("ana@example.com"), caller: fixture.harness.caller(), budget: &budget)
        _ = try await fixture.admin.lock(.id(signedIn.user.id), peer: fixture.peer)

        try await fixture.admin.delete(try fixture.ref("ana@example.com"), peer: fixture.peer)
        let state = await fixture.harness.store.state
        #expect(state.user(id: signedIn.user.id) == nil)
        #expect(state.sessions(userID: signedIn.user.id).isEmpty)
        #expect(state.code(userID: signedIn.user.id, purpose: .resetPassword) == nil)
        // Mail queued for the account is given up: no longer pending and without its code (the entry itself leaves
        // at the next snapshot, as every finished message does).
        #expect(
            state.outbox.values.filter { $0.userID == signedIn.user.id }.allSatisfy { !$0.isPending && $0.code == nil })
        #expect(state.lockouts["ana@example.com"] == nil)
        await #expect(throws: PorteroError.self) {
            _ = try await fixture.harness.auth.authenticate(accessToken: again.accessToken)
        }
        await #expect(throws: PorteroError(.userNotFound, "No such user.")) {
            _ = try await fixture.admin.user(.id(signedIn.user.id))
        }
        // The address registers again, unlocked, as a new account.
        let fresh = try await fixture.harness.verifiedUser("ana@example.com")
        #expect(fresh.user.id != signedIn.user.id)
        #expect(await fixture.audits().last?.action == "user_deleted")
        #expect(fixture.log.entries.contains { $0.metadata["event"] == "admin.user_deleted" && $0.level == .notice })
    }

    @Test func sessionsListAndRevoke() async throws {
        let fixture = try await Fixture()
        let ana = try await fixture.harness.verifiedUser("ana@example.com")
        fixture.harness.clock.advance(by: 1)
        let second = try await fixture.harness.login("ana@example.com")
        let bea = try await fixture.harness.verifiedUser("bea@example.com")

        #expect(try await fixture.admin.sessions(of: nil).count == 3)
        let anas = try await fixture.admin.sessions(of: try fixture.ref("ana@example.com"))
        #expect(anas.map(\.session.id) == [ana.sessionID, second.sessionID])
        #expect(anas.allSatisfy { $0.email == "ana@example.com" })

        try await fixture.admin.revokeSession(id: second.sessionID, peer: fixture.peer)
        await #expect(throws: PorteroError.self) {
            _ = try await fixture.harness.auth.authenticate(accessToken: second.accessToken)
        }
        _ = try await fixture.harness.auth.authenticate(accessToken: ana.accessToken)
        await #expect(throws: PorteroError(.sessionNotFound, "No such session.")) {
            try await fixture.admin.revokeSession(id: second.sessionID, peer: fixture.peer)
        }

        #expect(try await fixture.admin.revokeSessions(of: .id(ana.user.id), peer: fixture.peer) == 1)
        await #expect(throws: PorteroError.self) {
            _ = try await fixture.harness.auth.authenticate(accessToken: ana.accessToken)
        }
        #expect(try await fixture.admin.sessions(of: nil).map(\.session.id) == [bea.sessionID])
        let audits = await fixture.audits()
        #expect(audits.map(\.action) == ["session_revoked", "sessions_revoked"])
        #expect(audits.first?.sessionID == second.sessionID)
    }

    @Test func snapshotIsAuditedAndCoversEverything() async throws {
        let fixture = try await Fixture()
        _ = try await fixture.harness.verifiedUser("ana@example.com")
        let seq = try await fixture.admin.snapshot(peer: fixture.peer)
        #expect(seq == (await fixture.harness.store.lastSeq))
        #expect(await fixture.harness.store.recordsSinceSnapshot == 0)
        #expect(await fixture.audits().map(\.action) == ["snapshot"])
        #expect(fixture.log.entries.contains { $0.metadata["event"] == "admin.snapshot" && $0.level == .notice })
    }

    @Test func aUserIsNamedByIdOrAddress() throws {
        let id = UUID()
        #expect(try UserReference(parsing: id.uuidString.lowercased()) == .id(id))
        guard case .email(let email) = try UserReference(parsing: " Ana@Example.com ") else {
            Issue.record("an address was not read as one")
            return
        }
        #expect(email.key == "ana@example.com")
        #expect(throws: PorteroError.validation(["user": "must be a user id or an email address"])) {
            _ = try UserReference(parsing: "not-an-address")
        }
    }
}
