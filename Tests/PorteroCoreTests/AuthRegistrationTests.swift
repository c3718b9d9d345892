import Foundation
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

@Suite("Use cases: registration and verification")
struct AuthRegistrationTests {
    @Test func registerStoresTheUserAndMailsACodeOnlyTheOutboxHolds() async throws {
        let harness = try await AuthHarness()
        let user = try await harness.register("ana@example.com")
        let state = await harness.store.state
        #expect(state.user(emailKey: "ana@example.com")?.id == user.id)
        #expect(!user.emailVerified)
        let code = try #require(await harness.mailedCode(to: "ana@example.com", .verifyEmail))
        #expect(code.count == 6)
        // Stored only as a keyed hash.
        let stored = try #require(state.code(userID: user.id, purpose: .verifyEmail))
        #expect(stored.digest != code && !stored.digest.contains(code))
        #expect(user.passwordHash.hasPrefix("$argon2id$"))
    }

    @Test func aVerifiedAddressIsUserExistsWhateverItsCase() async throws {
        let harness = try await AuthHarness()
        _ = try await harness.verifiedUser("ana@example.com")
        await #expect(throws: PorteroError(.userExists, "An account with this email already exists.")) {
            try await harness.register("ANA@example.com")
        }
    }

    @Test func theRightCodeVerifiesAndSignsIn() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        #expect(signedIn.user.emailVerified)
        let auth = try await harness.auth.authenticate(accessToken: signedIn.accessToken)
        #expect(auth.userID == signedIn.user.id)
        #expect(await harness.store.state.code(userID: signedIn.user.id, purpose: .verifyEmail) == nil)
    }

    @Test func aCodeDiesAfterFiveWrongTries() async throws {
        let harness = try await AuthHarness()
        try await harness.register("ana@example.com")
        let code = try #require(await harness.mailedCode(to: "ana@example.com", .verifyEmail))
        let wrong = code == "000000" ? "111111" : "000000"
        for _ in 0..<5 {
            await #expect(throws: PorteroError(.invalidCode, "The code is wrong or has expired.")) {
                try await verify(harness, "ana@example.com", wrong)
            }
        }
        // The right code no longer works: the attempts ran out.
        await #expect(throws: PorteroError(.invalidCode, "The code is wrong or has expired.")) {
            try await verify(harness, "ana@example.com", code)
        }
    }

    @Test func aCodeExpiresAfterItsTTL() async throws {
        let harness = try await AuthHarness(configuration: .init(codeTTL: .init(seconds: 600)))
        try await harness.register("ana@example.com")
        let code = try #require(await harness.mailedCode(to: "ana@example.com", .verifyEmail))
        harness.clock.advance(by: 601)
        await #expect(throws: PorteroError(.invalidCode, "The code is wrong or has expired.")) {
            try await verify(harness, "ana@example.com", code)
        }
    }

    @Test func resendKillsThePreviousCode() async throws {
        let harness = try await AuthHarness()
        try await harness.register("ana@example.com")
        let first = try #require(await harness.mailedCode(to: "ana@example.com", .verifyEmail))
        harness.clock.advance(by: 1)
        var budget = RateBudget.unlimited(.resend)
        _ = try await harness.auth.resendVerification(
            .email(try harness.email("ana@example.com")), caller: harness.caller(), budget: &budget)
        let second = try #require(await harness.mailedCode(to: "ana@example.com", .verifyEmail))
        if first != second {
            await #expect(throws: PorteroError.self) { try await verify(harness, "ana@example.com", first) }
        }
        _ = try await verify(harness, "ana@example.com", second)
    }

    @Test func theVerificationTokenNamesTheAccount() async throws {
        let harness = try await AuthHarness()
        var budget = RateBudget.unlimited(.register)
        let registered = try await harness.auth.register(
            email: try harness.email("ana@example.com"),
            password: try harness.auth.newPassword("correct horse battery"),
            profile: .none, caller: harness.caller(), budget: &budget)
        let code = try #require(await harness.mailedCode(to: "ana@example.com", .verifyEmail))
        var verifyBudget = RateBudget.unlimited(.verify)
        let signedIn = try await harness.auth.verifyEmail(
            .token(registered.verificationToken), code: code, caller: harness.caller(), budget: &verifyBudget)
        #expect(signedIn.user.id == registered.user.id)
    }

    @Test func verifyingTwiceIsAlreadyVerified() async throws {
        let harness = try await AuthHarness()
        try await harness.verifiedUser("ana@example.com")
        await #expect(throws: PorteroError(.alreadyVerified, "This email address is already verified.")) {
            try await verify(harness, "ana@example.com", "123456")
        }
    }

    @Test func registerSpendsTheAddressBudget() async throws {
        let harness = try await AuthHarness(
            configuration: .init(
                rates: .init(
                    login: .off, register: RateLimit(count: 2, window: .init(seconds: 3600)), verify: .off,
                    resend: .off,
                    forgot: .off)))
        for (index, address) in ["a@example.com", "b@example.com"].enumerated() {
            var budget = harness.auth.budget(.register)
            _ = try await harness.auth.register(
                email: try harness.email(address), password: try harness.auth.newPassword("correct horse battery"),
                profile: .none, caller: harness.caller(), budget: &budget)
            #expect(budget.decision?.remaining == 1 - index)
        }
        var budget = harness.auth.budget(.register)
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.register(
                email: try harness.email("c@example.com"),
                password: try harness.auth.newPassword("correct horse battery"),
                profile: .none, caller: harness.caller(), budget: &budget)
        }
        #expect(budget.decision?.allowed == false)
        // Another address has its own budget.
        var other = harness.auth.budget(.register)
        _ = try await harness.auth.register(
            email: try harness.email("c@example.com"), password: try harness.auth.newPassword("correct horse battery"),
            profile: .none, caller: harness.caller("192.0.2.99"), budget: &other)
    }

    @Test(
        arguments: [
            ("  Ana  ", nil, [String: String]()),
            (String(repeating: "x", count: 201), nil, ["name": "must be at most 200 characters"]),
            (nil, "+34 600-00-00 (1)", [:]),
            (nil, "call me", ["phone": "must be a phone number (digits, spaces, + - ( ) .), at most 32 characters"]),
            (
                nil, String(repeating: "1", count: 33),
                ["phone": "must be a phone number (digits, spaces, + - ( ) .), at most 32 characters"]
            ),
        ] as [(String?, String?, [String: String])])
    func profileFieldRules(name: String?, phone: String?, problems: [String: String]) {
        let (fields, found) = ProfileFields.validate(name: name, phone: phone)
        #expect(found == problems)
        if name == "  Ana  " { #expect(fields.name == "Ana") }
    }

    private func verify(_ harness: AuthHarness, _ address: String, _ code: String) async throws -> SignedIn {
        var budget = RateBudget.unlimited(.verify)
        return try await harness.auth.verifyEmail(
            .email(try harness.email(address)), code: code, caller: harness.caller(), budget: &budget)
    }
}
