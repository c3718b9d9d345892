import Foundation
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

/// Issue 16: account pre-hijacking, guessing through /password/change, notices, absolute session lifetime and
/// lockout windows, as use cases over a MemoryStore and a test clock.
@Suite("Use cases: hardening")
struct AuthHardeningTests {
    static let wrongCurrent = PorteroError(.invalidCredentials, "The current password is wrong.")

    func register(
        _ harness: AuthHarness, _ address: String, _ password: String, name: String? = nil
    ) async throws -> Registered {
        var budget = RateBudget.unlimited(.register)
        return try await harness.auth.register(
            email: try harness.email(address), password: try harness.auth.newPassword(password),
            profile: ProfileFields.validate(name: name, phone: nil).fields, caller: harness.caller(), budget: &budget)
    }

    func verify(_ harness: AuthHarness, _ address: String, _ code: String) async throws -> SignedIn {
        var budget = RateBudget.unlimited(.verify)
        return try await harness.auth.verifyEmail(
            .email(try harness.email(address)), code: code, caller: harness.caller(), budget: &budget)
    }

    @Test func registeringAnUnverifiedAddressAgainStartsOverAndTheFirstPasswordIsGone() async throws {
        let harness = try await AuthHarness()
        let attacker = try await register(harness, "victim@example.com", "attacker password 1", name: "Mallory")
        let attackerCode = try #require(await harness.mailedCode(to: "victim@example.com", .verifyEmail))
        harness.clock.advance(by: 1)
        let victim = try await register(harness, "victim@example.com", "victim password 22", name: "Vera")
        #expect(victim.user.id != attacker.user.id)
        #expect(victim.user.name == "Vera")
        let state = await harness.store.state
        #expect(state.user(id: attacker.user.id) == nil)
        #expect(state.code(userID: attacker.user.id, purpose: .verifyEmail) == nil)
        let victimCode = try #require(await harness.mailedCode(to: "victim@example.com", .verifyEmail))
        if attackerCode != victimCode {
            await #expect(throws: PorteroError.self) {
                _ = try await verify(harness, "victim@example.com", attackerCode)
            }
        }
        // The attacker's verification token names an account that no longer exists.
        var budget = RateBudget.unlimited(.verify)
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.verifyEmail(
                .token(attacker.verificationToken), code: victimCode, caller: harness.caller(), budget: &budget)
        }
        let signedIn = try await verify(harness, "victim@example.com", victimCode)
        #expect(signedIn.user.id == victim.user.id && signedIn.user.name == "Vera")
        await #expect(throws: PorteroError(.invalidCredentials, "The email or password is wrong.")) {
            _ = try await harness.login("victim@example.com", "attacker password 1")
        }
        _ = try await harness.login("victim@example.com", "victim password 22")
        // Verified: now the address is taken.
        await #expect(throws: PorteroError(.userExists, "An account with this email already exists.")) {
            _ = try await register(harness, "VICTIM@example.com", "attacker password 1")
        }
    }

    @Test func anUnverifiedAccountIsGoneAfterItsTTLAndLeavesAtTheSnapshot() async throws {
        let harness = try await AuthHarness(configuration: .init(unverifiedTTL: .init(seconds: 3600)))
        let pending = try await harness.register("late@example.com")
        let verified = try await harness.verifiedUser("early@example.com")
        let code = try #require(await harness.mailedCode(to: "late@example.com", .verifyEmail))
        harness.clock.advance(by: 3601)
        await #expect(throws: PorteroError(.userNotFound, "No account with this email.")) {
            _ = try await verify(harness, "late@example.com", code)
        }
        var budget = RateBudget.unlimited(.status)
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.verificationStatus(
                try harness.email("late@example.com"), caller: harness.caller(), budget: &budget)
        }
        _ = try await harness.store.snapshot()
        let state = await harness.store.state
        #expect(state.user(id: pending.id) == nil && state.user(emailKey: "late@example.com") == nil)
        #expect(state.code(userID: pending.id, purpose: .verifyEmail) == nil)
        #expect(state.user(id: verified.user.id) != nil)
    }

    @Test func aWrongCurrentPasswordCountsTowardsTheLockoutAndIsLoggedAsAFailedLogin() async throws {
        let harness = try await AuthHarness(configuration: .init(lockoutMaxFailures: 3))
        let ana = try await harness.verifiedUser("ana@example.com")
        let auth = try await harness.auth.authenticate(accessToken: ana.accessToken)
        let new = try harness.auth.newPassword("a brand new secret")
        for _ in 0..<3 {
            await #expect(throws: Self.wrongCurrent) {
                try await harness.changePassword(auth, current: "guess guess guess", new: new, caller: harness.caller())
            }
        }
        let entry = try #require(await harness.store.state.lockouts["ana@example.com"])
        #expect(entry.failures == 3 && entry.lockedUntil != nil)
        // Locked: even the right password is not checked, here or at login.
        await #expect(throws: PorteroError.self) {
            try await harness.changePassword(auth, current: "correct horse battery", new: new, caller: harness.caller())
        }
        await #expect(throws: PorteroError.self) { _ = try await harness.login("ana@example.com") }
        do {
            try await harness.changePassword(auth, current: "correct horse battery", new: new, caller: harness.caller())
            Issue.record("a locked account changed its password")
        } catch let error as PorteroError {
            #expect(error.code == .accountLocked)
        }
    }

    @Test func passwordChangeIsRateLimitedPerUser() async throws {
        let harness = try await AuthHarness(
            configuration: .init(
                lockoutMaxFailures: 0,
                rates: .init(
                    login: RateLimit(count: 2, window: .init(seconds: 900)), register: .off, verify: .off,
                    resend: .off, forgot: .off)))
        let ana = try await harness.verifiedUser("ana@example.com")
        let bob = try await harness.verifiedUser("bob@example.com")
        let new = try harness.auth.newPassword("a brand new secret")
        for (signedIn, limited) in [(ana, true), (bob, false)] {
            let auth = try await harness.auth.authenticate(accessToken: signedIn.accessToken)
            let attempts = limited ? 3 : 1
            for attempt in 0..<attempts {
                var budget = harness.auth.budget(.passwordChange)
                do {
                    _ = try await harness.auth.changePassword(
                        auth, current: "guess guess guess", new: new, caller: harness.caller("198.51.100.\(attempt)"),
                        budget: &budget)
                    Issue.record("a wrong password was accepted")
                } catch let error as PorteroError {
                    #expect(error.code == (attempt < 2 ? .invalidCredentials : .rateLimited))
                }
            }
        }
    }

    @Test func aChangeAndAResetEachMailANoticeWithoutACode() async throws {
        let harness = try await AuthHarness()
        let ana = try await harness.verifiedUser("ana@example.com")
        let auth = try await harness.auth.authenticate(accessToken: ana.accessToken)
        try await harness.changePassword(
            auth, current: "correct horse battery", new: try harness.auth.newPassword("a brand new secret"),
            caller: harness.caller())
        var notices = await harness.mails(to: "ana@example.com", kind: MailNotice.passwordChanged.rawValue)
        #expect(notices.count == 1 && notices.allSatisfy { $0.code == nil && $0.userID == ana.user.id })
        var budget = RateBudget.unlimited(.forgot)
        try await harness.auth.forgotPassword(
            try harness.email("ana@example.com"), caller: harness.caller(), budget: &budget)
        let code = try #require(await harness.mailedCode(to: "ana@example.com", .resetPassword))
        harness.clock.advance(by: 1)
        try await harness.resetPassword(
            email: try harness.email("ana@example.com"), code: code,
            new: try harness.auth.newPassword("yet another one"),
            caller: harness.caller())
        notices = await harness.mails(to: "ana@example.com", kind: MailNotice.passwordChanged.rawValue)
        #expect(notices.count == 2 && notices.allSatisfy { $0.code == nil })
    }

    @Test func aSessionEndsAtItsMaximumAgeWhateverItsRotations() async throws {
        let day = 86400.0
        let harness = try await AuthHarness(
            configuration: .init(refreshTTL: .init(seconds: 10 * 86400), sessionMaxAge: .init(seconds: 15 * 86400)))
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let loginAt = harness.clock.now
        var token = signedIn.refreshToken
        for _ in 0..<2 {
            harness.clock.advance(by: 7 * day)
            token = try await harness.auth.refresh(refreshToken: token, caller: harness.caller()).refreshToken
        }
        let session = try #require(await harness.store.state.session(tokenDigest: Secrets.sha256Hex(token)))
        #expect(session.expiresAt == loginAt.addingTimeInterval(15 * day))
        harness.clock.advance(by: 1 * day + 1)
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.refresh(refreshToken: token, caller: harness.caller())
        }
    }

    @Test func lockoutStateExpiresWithItsWindow() async throws {
        let harness = try await AuthHarness(
            configuration: .init(lockoutMaxFailures: 3, lockoutDuration: .init(seconds: 600)))
        for _ in 0..<2 {
            await #expect(throws: PorteroError.self) { _ = try await harness.login("ghost@example.com", "nope nope") }
        }
        #expect(await harness.store.state.lockouts.count == 1)
        harness.clock.advance(by: 601)
        // Two more failures after the window do not add up to the earlier two.
        for _ in 0..<2 {
            await #expect(throws: PorteroError(.invalidCredentials, "The email or password is wrong.")) {
                _ = try await harness.login("ghost@example.com", "nope nope")
            }
        }
        harness.clock.advance(by: 601)
        _ = try await harness.store.snapshot()
        #expect(await harness.store.state.lockouts.isEmpty)
    }
    @Test func addressesWithoutAnAccountAreKeptOnlyAsAKeyedHash() async throws {
        let harness = try await AuthHarness(configuration: .init(lockoutMaxFailures: 3))
        let ana = try await harness.verifiedUser("ana@example.com")
        for address in ["ana@example.com", "ghost@example.com"] {
            await #expect(throws: PorteroError.self) { _ = try await harness.login(address, "nope nope") }
        }
        var keys = Array(await harness.store.state.lockouts.keys)
        #expect(keys.contains("ana@example.com"))
        #expect(!keys.contains { $0.contains("ghost") })
        #expect(keys.filter { $0.hasPrefix(Lockout.hashedKeyPrefix) }.count == 1)
        #expect(await harness.auth.lockoutEntry(emailKey: "ghost@example.com")?.failures == 1)
        // The hashed entry counts like any other: two more failures lock the unknown address.
        for _ in 0..<2 {
            await #expect(throws: PorteroError.self) { _ = try await harness.login("ghost@example.com", "nope nope") }
        }
        #expect(await harness.auth.lockoutEntry(emailKey: "ghost@example.com")?.lockedUntil != nil)
        // A plain entry whose account is gone, and one written before addresses were hashed, leave at the snapshot.
        try await harness.store.write { transaction in
            transaction.append(.userDeleted(.init(userID: ana.user.id, at: transaction.now)))
            transaction.append(
                .loginFailed(
                    .init(
                        emailKey: "legacy@example.com", at: transaction.now, failures: 1, lockedUntil: nil,
                        expiresAt: transaction.now.addingTimeInterval(3600))))
        }
        _ = try await harness.store.snapshot()
        keys = Array(await harness.store.state.lockouts.keys)
        #expect(keys.count == 1 && keys.allSatisfy { $0.hasPrefix(Lockout.hashedKeyPrefix) })
    }
}
