import Foundation
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

@Suite("Use cases: login, lockout, rehash")
struct AuthLoginTests {
    static let wrongCredentials = PorteroError(.invalidCredentials, "The email or password is wrong.")

    @Test func theRightPasswordSignsIn() async throws {
        let harness = try await AuthHarness()
        let verified = try await harness.verifiedUser("ana@example.com")
        let signedIn = try await harness.login("ana@example.com")
        #expect(signedIn.user.id == verified.user.id)
        #expect(signedIn.sessionID != verified.sessionID)
        #expect(await harness.store.state.user(id: verified.user.id)?.lastLoginIP == "192.0.2.1")
    }

    @Test func anUnknownEmailAndAWrongPasswordAnswerAlike() async throws {
        let harness = try await AuthHarness()
        try await harness.verifiedUser("ana@example.com")
        await #expect(throws: Self.wrongCredentials) { try await harness.login("ana@example.com", "wrong password!") }
        await #expect(throws: Self.wrongCredentials) {
            try await harness.login("nobody@example.com", "wrong password!")
        }
        // Both counted a failure, known or not.
        let state = await harness.store.state
        #expect(state.lockouts["ana@example.com"]?.failures == 1)
        #expect(await harness.auth.lockoutEntry(emailKey: "nobody@example.com")?.failures == 1)
        // The address without an account is kept only as a keyed hash (SPEC §4).
        #expect(state.lockouts["nobody@example.com"] == nil)
        #expect(state.lockouts.keys.filter { $0.hasPrefix(Lockout.hashedKeyPrefix) }.count == 1)
        #expect(!state.lockouts.keys.contains { $0.contains("nobody") })
    }

    @Test func anUnverifiedAccountIsToldOnlyAfterTheRightPassword() async throws {
        let harness = try await AuthHarness()
        try await harness.register("ana@example.com")
        await #expect(throws: Self.wrongCredentials) { try await harness.login("ana@example.com", "wrong password!") }
        do {
            _ = try await harness.login("ana@example.com")
            Issue.record("an unverified account logged in")
        } catch let error as PorteroError {
            #expect(error.code == .accountNotVerified)
            #expect(error.extra == .needsVerification)
        }
    }

    @Test func fiveFailuresLockTheEmailAndNoPasswordIsCheckedWhileLocked() async throws {
        let harness = try await AuthHarness(
            configuration: .init(lockoutMaxFailures: 5, lockoutDuration: .init(seconds: 3600)))
        try await harness.verifiedUser("ana@example.com")
        for _ in 0..<4 {
            await #expect(throws: Self.wrongCredentials) {
                try await harness.login("ana@example.com", "wrong password!")
            }
        }
        // The fifth failure locks.
        await #expect(throws: Self.wrongCredentials) { try await harness.login("ana@example.com", "wrong password!") }
        let lockedUntil = harness.clock.now.addingTimeInterval(3600)
        #expect(await harness.store.state.lockouts["ana@example.com"]?.lockedUntil == lockedUntil)
        // Even the right password is refused while locked.
        await #expect(throws: Lockout.locked(until: lockedUntil)) { try await harness.login("ana@example.com") }
        // After the lock the count starts again, and the right password works.
        harness.clock.advance(by: 3601)
        _ = try await harness.login("ana@example.com")
        #expect(await harness.store.state.lockouts["ana@example.com"] == nil)
    }

    @Test func unknownEmailsLockToo() async throws {
        let harness = try await AuthHarness(configuration: .init(lockoutMaxFailures: 2))
        for _ in 0..<2 {
            await #expect(throws: Self.wrongCredentials) {
                try await harness.login("ghost@example.com", "wrong password!")
            }
        }
        await #expect(throws: PorteroError.self) { try await harness.login("ghost@example.com", "wrong password!") }
        #expect(await harness.auth.lockoutEntry(emailKey: "ghost@example.com")?.lockedUntil != nil)
    }

    @Test func parallelAttemptsCannotOutrunTheLockout() async throws {
        let harness = try await AuthHarness(configuration: .init(lockoutMaxFailures: 3))
        try await harness.verifiedUser("ana@example.com")
        let codes = await withTaskGroup(of: PorteroError.Code?.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do {
                        _ = try await harness.login("ana@example.com", "wrong password!")
                        return nil
                    } catch let error as PorteroError {
                        return error.code
                    } catch {
                        return nil
                    }
                }
            }
            return await group.reduce(into: [PorteroError.Code?]()) { $0.append($1) }
        }
        // At most max_failures passwords were checked; everything else was refused as locked.
        #expect(codes.filter { $0 == .invalidCredentials }.count <= 3)
        #expect(codes.allSatisfy { $0 == .invalidCredentials || $0 == .accountLocked })
        #expect(await harness.store.state.lockouts["ana@example.com"]?.lockedUntil != nil)
    }

    @Test func aLoginRehashesAnOlderHashAndKeepsTheSessions() async throws {
        // The account's hash is bcrypt (as imported or seeded); the service hashes with argon2id.
        let harness = try await AuthHarness()
        let verified = try await harness.verifiedUser("ana@example.com")
        let bcrypt = try PasswordHasher(configuration: .init(algorithm: .bcrypt, bcryptCost: 4))
        let oldHash = try bcrypt.hash("correct horse battery")
        try await harness.store.write { transaction in
            transaction.append(
                .userPasswordChanged(
                    .init(userID: verified.user.id, at: transaction.now, passwordHash: oldHash, revokeTokens: false)))
        }
        _ = try await harness.login("ana@example.com")
        let hash = try #require(await harness.store.state.user(id: verified.user.id)?.passwordHash)
        #expect(hash.hasPrefix("$argon2id$"))
        // A rehash is not a password change: the earlier session still works.
        _ = try await harness.auth.authenticate(accessToken: verified.accessToken)
        _ = try await harness.login("ana@example.com")
    }

    @Test func theLoginBudgetCountsPerAddress() async throws {
        let harness = try await AuthHarness(
            configuration: .init(
                rates: .init(
                    login: RateLimit(count: 2, window: .init(seconds: 900)), register: .off, verify: .off, resend: .off,
                    forgot: .off)))
        try await harness.verifiedUser("ana@example.com")
        for _ in 0..<2 {
            var budget = harness.auth.budget(.login)
            _ = try await harness.auth.login(
                email: try harness.email("ana@example.com"), password: "correct horse battery",
                caller: harness.caller(), budget: &budget)
        }
        var budget = harness.auth.budget(.login)
        do {
            _ = try await harness.auth.login(
                email: try harness.email("ana@example.com"), password: "correct horse battery",
                caller: harness.caller(), budget: &budget)
            Issue.record("a third login in the window went through")
        } catch let error as PorteroError {
            #expect(error.code == .rateLimited)
            #expect(budget.decision?.allowed == false)
        }
    }
}
