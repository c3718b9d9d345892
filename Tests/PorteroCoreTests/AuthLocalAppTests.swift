import Foundation
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

@Suite("Use cases: introspection and forward-auth")
struct AuthLocalAppTests {
    @Test func anActiveTokenIntrospectsToItsClaimsWithoutAStoreWrite() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let before = await harness.store.lastSeq
        let active = try #require(await harness.auth.introspect(token: signedIn.accessToken))
        #expect(active.claims.sub == signedIn.user.id.uuidString.lowercased())
        #expect(active.claims.email == "ana@example.com")
        #expect(active.claims.sid == signedIn.sessionID.uuidString.lowercased())
        #expect(active.scope == "user")
        #expect(await harness.store.lastSeq == before)
    }

    @Test func everyDeadTokenIsInactiveAlike() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        var budget = RateBudget.unlimited(.register)
        let registered = try await harness.auth.register(
            email: try harness.email("bo@example.com"), password: try harness.auth.newPassword("correct horse battery"),
            profile: .none, caller: harness.caller(), budget: &budget)
        let forged = signedIn.accessToken.dropLast(2) + (signedIn.accessToken.hasSuffix("AA") ? "BB" : "AA")
        for token in [
            registered.verificationToken, signedIn.idToken, signedIn.refreshToken, String(forged), "garbage", "",
        ] {
            #expect(await harness.auth.introspect(token: token) == nil)
        }
        harness.clock.advance(by: 3600 + 61)
        #expect(await harness.auth.introspect(token: signedIn.accessToken) == nil)
    }

    @Test(arguments: ["logout", "logout-all", "session", "password change", "password reset", "user deleted"])
    func aRevokedTokenIsInactiveAndRefusedByForwardAuth(_ how: String) async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        #expect(await harness.auth.introspect(token: signedIn.accessToken) != nil)
        let auth = try await harness.auth.authenticate(accessToken: signedIn.accessToken)
        harness.clock.advance(by: 1)
        switch how {
        case "logout": try await harness.auth.logout(auth, refreshToken: nil, caller: harness.caller())
        case "logout-all": try await harness.auth.logoutAll(auth, caller: harness.caller())
        case "session":
            try await harness.auth.revokeSession(auth, id: signedIn.sessionID, caller: harness.caller())
        case "password change": try await harness.changePasswordFromAnotherSession("ana@example.com")
        case "password reset": try await harness.resetPasswordByMailedCode("ana@example.com")
        default:
            try await harness.store.write { transaction in
                transaction.append(.userDeleted(.init(userID: signedIn.user.id, at: harness.clock.now)))
            }
        }
        #expect(await harness.auth.introspect(token: signedIn.accessToken) == nil)
        await #expect(throws: PorteroError(.tokenRevoked, "The access token has been revoked.")) {
            _ = try await harness.auth.forwardAuth(accessToken: signedIn.accessToken, requiredRole: nil)
        }
    }

    @Test func forwardAuthNamesTheUserAsTheStoreKnowsThemNow() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let identity = try await harness.auth.forwardAuth(accessToken: signedIn.accessToken, requiredRole: "user")
        #expect(identity.userID == signedIn.user.id)
        #expect(identity.email == "ana@example.com")
        #expect(identity.roles == ["user"])
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.forwardAuth(accessToken: signedIn.accessToken, requiredRole: "admin")
        }
        try await harness.store.write { transaction in
            transaction.append(
                .userUpdated(.init(userID: signedIn.user.id, at: harness.clock.now, roles: ["user", "admin"])))
        }
        let promoted = try await harness.auth.forwardAuth(accessToken: signedIn.accessToken, requiredRole: "admin")
        #expect(promoted.roles == ["user", "admin"])
        try await harness.store.write { transaction in
            transaction.append(.userUpdated(.init(userID: signedIn.user.id, at: harness.clock.now, roles: ["user"])))
        }
        do {
            _ = try await harness.auth.forwardAuth(accessToken: signedIn.accessToken, requiredRole: "admin")
            Issue.record("a role taken away still let the user through")
        } catch let error as PorteroError {
            #expect(error.code == .insufficientRole)
        }
    }

    @Test func forwardAuthWithoutATokenIsMissingToken() async throws {
        let harness = try await AuthHarness()
        do {
            _ = try await harness.auth.forwardAuth(accessToken: nil, requiredRole: nil)
            Issue.record("no token was let through")
        } catch let error as PorteroError {
            #expect(error.code == .missingToken)
        }
    }
}
