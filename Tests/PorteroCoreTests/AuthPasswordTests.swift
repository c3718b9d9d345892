import Foundation
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

@Suite("Use cases: password change, forgot and reset")
struct AuthPasswordTests {
    static let wrongCode = PorteroError(.invalidCode, "The code is wrong or has expired.")

    @Test func changeNeedsTheCurrentPasswordAndRevokesEverySession() async throws {
        let harness = try await AuthHarness()
        let ana = try await harness.verifiedUser("ana@example.com")
        let other = try await harness.login("ana@example.com")
        let auth = try await harness.auth.authenticate(accessToken: ana.accessToken)
        let new = try harness.auth.newPassword("a brand new secret")
        await #expect(throws: PorteroError(.invalidCredentials, "The current password is wrong.")) {
            _ = try await harness.changePassword(
                auth, current: "not it at all", new: new, caller: harness.caller())
        }
        harness.clock.advance(by: 2)
        let signedIn = try await harness.changePassword(
            auth, current: "correct horse battery", new: new, caller: harness.caller())
        for token in [ana.accessToken, other.accessToken] {
            await #expect(throws: PorteroError.self) { _ = try await harness.auth.authenticate(accessToken: token) }
        }
        _ = try await harness.auth.authenticate(accessToken: signedIn.accessToken)
        _ = try await harness.login("ana@example.com", "a brand new secret")
    }

    @Test func thePolicyRefusesWeakPasswords() async throws {
        let harness = try await AuthHarness()
        #expect(throws: PasswordPolicyFailure.self) { try harness.auth.newPassword("short") }
        #expect(throws: PasswordPolicyFailure.self) { try harness.auth.newPassword("password123") }
    }

    @Test func forgotMailsACodeOnlyToAnAccountAndAnswersAlike() async throws {
        let harness = try await AuthHarness()
        try await harness.verifiedUser("ana@example.com")
        for address in ["ana@example.com", "ghost@example.com"] {
            var budget = RateBudget.unlimited(.forgot)
            try await harness.auth.forgotPassword(try harness.email(address), caller: harness.caller(), budget: &budget)
        }
        #expect(await harness.mailedCode(to: "ana@example.com", .resetPassword) != nil)
        #expect(await harness.mailedCode(to: "ghost@example.com", .resetPassword) == nil)
    }

    @Test func forgotHandsItsWorkToTheWorkerWhenItHasAQueue() async throws {
        let harness = try await AuthHarness(inlineResets: false)
        try await harness.verifiedUser("ana@example.com")
        var budget = RateBudget.unlimited(.forgot)
        try await harness.auth.forgotPassword(
            try harness.email("ana@example.com"), caller: harness.caller(), budget: &budget)
        #expect(await harness.mailedCode(to: "ana@example.com", .resetPassword) == nil)
        let worker = PasswordResetWorker(service: harness.auth)
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        // Wait for the worker (up to 10 s on a loaded machine), not a fixed number of yields.
        let deadline = ContinuousClock.now + .seconds(10)
        var code = await harness.mailedCode(to: "ana@example.com", .resetPassword)
        while code == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
            code = await harness.mailedCode(to: "ana@example.com", .resetPassword)
        }
        #expect(code != nil)
    }

    @Test func resetWithTheCodeSetsThePasswordRevokesSessionsAndClearsTheLock() async throws {
        let harness = try await AuthHarness(configuration: .init(lockoutMaxFailures: 2))
        let ana = try await harness.verifiedUser("ana@example.com")
        for _ in 0..<2 { _ = try? await harness.login("ana@example.com", "wrong password!") }
        #expect(await harness.store.state.lockouts["ana@example.com"]?.lockedUntil != nil)
        var budget = RateBudget.unlimited(.forgot)
        try await harness.auth.forgotPassword(
            try harness.email("ana@example.com"), caller: harness.caller(), budget: &budget)
        let code = try #require(await harness.mailedCode(to: "ana@example.com", .resetPassword))
        harness.clock.advance(by: 2)
        try await harness.resetPassword(
            email: try harness.email("ana@example.com"), code: code,
            new: try harness.auth.newPassword("a brand new secret"),
            caller: harness.caller())
        #expect(await harness.store.state.lockouts["ana@example.com"] == nil)
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.authenticate(accessToken: ana.accessToken)
        }
        _ = try await harness.login("ana@example.com", "a brand new secret")
        // The code is spent.
        await #expect(throws: Self.wrongCode) {
            try await harness.resetPassword(
                email: try harness.email("ana@example.com"), code: code,
                new: try harness.auth.newPassword("yet another secret"), caller: harness.caller())
        }
    }

    @Test func aResetWithAMailedCodeVerifiesAnUnverifiedAddress() async throws {
        let harness = try await AuthHarness()
        _ = try await harness.register("unverified@example.com")
        let key = try harness.email("unverified@example.com").key
        #expect(await harness.store.state.user(emailKey: key)?.emailVerified == false)
        try await harness.resetPasswordByMailedCode("unverified@example.com")
        #expect(await harness.store.state.user(emailKey: key)?.emailVerified == true)
        _ = try await harness.login("unverified@example.com", "a new horse battery")
    }

    @Test func anUnknownEmailAnswersLikeAWrongCode() async throws {
        let harness = try await AuthHarness()
        await #expect(throws: Self.wrongCode) {
            try await harness.resetPassword(
                email: try harness.email("ghost@example.com"), code: "123456",
                new: try harness.auth.newPassword("a brand new secret"), caller: harness.caller())
        }
    }

    @Test func wrongResetCodesCountAndKillTheCode() async throws {
        let harness = try await AuthHarness()
        try await harness.verifiedUser("ana@example.com")
        var budget = RateBudget.unlimited(.forgot)
        try await harness.auth.forgotPassword(
            try harness.email("ana@example.com"), caller: harness.caller(), budget: &budget)
        let code = try #require(await harness.mailedCode(to: "ana@example.com", .resetPassword))
        let wrong = code == "000000" ? "111111" : "000000"
        let new = try harness.auth.newPassword("a brand new secret")
        for _ in 0..<5 {
            await #expect(throws: Self.wrongCode) {
                try await harness.resetPassword(
                    email: try harness.email("ana@example.com"), code: wrong, new: new, caller: harness.caller())
            }
        }
        await #expect(throws: Self.wrongCode) {
            try await harness.resetPassword(
                email: try harness.email("ana@example.com"), code: code, new: new, caller: harness.caller())
        }
    }

    @Test func theForgotBudgetCountsPerEmail() async throws {
        let harness = try await AuthHarness(
            configuration: .init(
                rates: .init(
                    login: .off, register: .off, verify: .off, resend: .off,
                    forgot: RateLimit(count: 1, window: .init(seconds: 3600)))))
        var budget = harness.auth.budget(.forgot)
        try await harness.auth.forgotPassword(
            try harness.email("ghost@example.com"), caller: harness.caller(), budget: &budget)
        var again = harness.auth.budget(.forgot)
        await #expect(throws: PorteroError.self) {
            try await harness.auth.forgotPassword(
                try harness.email("ghost@example.com"), caller: harness.caller("198.51.100.7"), budget: &again)
        }
        var other = harness.auth.budget(.forgot)
        try await harness.auth.forgotPassword(
            try harness.email("other@example.com"), caller: harness.caller(), budget: &other)
    }
}
