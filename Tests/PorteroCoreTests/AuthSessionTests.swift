import Foundation
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

@Suite("Use cases: refresh rotation, reuse, logout, sessions, profile")
struct AuthSessionTests {
    @Test func refreshRotatesAndTheNewTokenWorks() async throws {
        let harness = try await AuthHarness()
        let first = try await harness.verifiedUser("ana@example.com")
        let second = try await harness.auth.refresh(refreshToken: first.refreshToken, caller: harness.caller())
        #expect(second.refreshToken != first.refreshToken)
        #expect(second.sessionID == first.sessionID)
        let third = try await harness.auth.refresh(refreshToken: second.refreshToken, caller: harness.caller())
        #expect(third.sessionID == first.sessionID)
    }

    @Test func aSpentTokenRevokesItsWholeFamily() async throws {
        let harness = try await AuthHarness()
        let first = try await harness.verifiedUser("ana@example.com")
        let second = try await harness.auth.refresh(refreshToken: first.refreshToken, caller: harness.caller())
        do {
            _ = try await harness.auth.refresh(refreshToken: first.refreshToken, caller: harness.caller())
            Issue.record("a spent refresh token was accepted")
        } catch let error as PorteroError {
            #expect(error.code == .refreshTokenReused)
        }
        // The thief's and the owner's current token are both dead, and so is the session's access token.
        await #expect(throws: PorteroError(.invalidToken, "The refresh token is invalid or expired.")) {
            _ = try await harness.auth.refresh(refreshToken: second.refreshToken, caller: harness.caller())
        }
        await #expect(throws: PorteroError(.tokenRevoked, "The access token has been revoked.")) {
            _ = try await harness.auth.authenticate(accessToken: second.accessToken)
        }
    }

    @Test func aSessionExpiresAfterRefreshTTLWithoutUse() async throws {
        let harness = try await AuthHarness(configuration: .init(refreshTTL: .init(seconds: 3600)))
        let first = try await harness.verifiedUser("ana@example.com")
        harness.clock.advance(by: 3000)
        // Rotation slides the lifetime.
        let second = try await harness.auth.refresh(refreshToken: first.refreshToken, caller: harness.caller())
        harness.clock.advance(by: 3000)
        let third = try await harness.auth.refresh(refreshToken: second.refreshToken, caller: harness.caller())
        harness.clock.advance(by: 3601)
        await #expect(throws: PorteroError(.invalidToken, "The refresh token is invalid or expired.")) {
            _ = try await harness.auth.refresh(refreshToken: third.refreshToken, caller: harness.caller())
        }
    }

    @Test func logoutRevokesTheAccessTokenAndItsSession() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let other = try await harness.login("ana@example.com")
        let auth = try await harness.auth.authenticate(accessToken: signedIn.accessToken)
        try await harness.auth.logout(auth, refreshToken: nil, caller: harness.caller())
        await #expect(throws: PorteroError(.tokenRevoked, "The access token has been revoked.")) {
            _ = try await harness.auth.authenticate(accessToken: signedIn.accessToken)
        }
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.refresh(refreshToken: signedIn.refreshToken, caller: harness.caller())
        }
        // The other session lives on.
        _ = try await harness.auth.authenticate(accessToken: other.accessToken)
    }

    @Test func logoutAllEndsEverySession() async throws {
        let harness = try await AuthHarness()
        let first = try await harness.verifiedUser("ana@example.com")
        let second = try await harness.login("ana@example.com")
        harness.clock.advance(by: 2)
        try await harness.auth.logoutAll(
            try await harness.auth.authenticate(accessToken: second.accessToken), caller: harness.caller())
        for token in [first.accessToken, second.accessToken] {
            await #expect(throws: PorteroError(.tokenRevoked, "The access token has been revoked.")) {
                _ = try await harness.auth.authenticate(accessToken: token)
            }
        }
        #expect(await harness.store.state.sessions(userID: first.user.id).isEmpty)
        // A login afterwards works.
        _ = try await harness.auth.authenticate(accessToken: try await harness.login("ana@example.com").accessToken)
    }

    @Test func sessionsAreListedAndOnlyTheirOwnerRevokesThem() async throws {
        let harness = try await AuthHarness()
        let ana = try await harness.verifiedUser("ana@example.com")
        let bob = try await harness.verifiedUser("bob@example.com")
        _ = try await harness.login("ana@example.com")
        let anaAuth = try await harness.auth.authenticate(accessToken: ana.accessToken)
        let bobAuth = try await harness.auth.authenticate(accessToken: bob.accessToken)
        #expect(await harness.auth.sessions(anaAuth).count == 2)
        await #expect(throws: PorteroError(.sessionNotFound, "No such session.")) {
            try await harness.auth.revokeSession(bobAuth, id: ana.sessionID, caller: harness.caller())
        }
        await #expect(throws: PorteroError(.sessionNotFound, "No such session.")) {
            try await harness.auth.revokeSession(bobAuth, id: nil, caller: harness.caller())
        }
        try await harness.auth.revokeSession(anaAuth, id: ana.sessionID, caller: harness.caller())
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.authenticate(accessToken: ana.accessToken)
        }
    }

    @Test func theProfileIsReadAndUpdated() async throws {
        let harness = try await AuthHarness()
        let ana = try await harness.verifiedUser("ana@example.com")
        let auth = try await harness.auth.authenticate(accessToken: ana.accessToken)
        #expect(try harness.auth.profile(auth).email == "ana@example.com")
        let (fields, problems) = ProfileFields.validate(name: " Ana ", phone: "+34 600")
        #expect(problems.isEmpty)
        let updated = try await harness.auth.updateProfile(auth, fields, caller: harness.caller())
        #expect(updated.name == "Ana" && updated.phone == "+34 600")
        let (clear, _) = ProfileFields.validate(name: "", phone: nil)
        let cleared = try await harness.auth.updateProfile(auth, clear, caller: harness.caller())
        #expect(cleared.name == nil && cleared.phone == "+34 600")
    }

    @Test func aStoreThatCannotWriteIs503AndNothingChanges() async throws {
        let harness = try await AuthHarness()
        let ana = try await harness.verifiedUser("ana@example.com")
        await harness.store.fail(reason: "disk full")
        #expect(await !harness.auth.isWritable())
        await #expect(throws: PorteroError.unavailable()) {
            _ = try await harness.auth.refresh(refreshToken: ana.refreshToken, caller: harness.caller())
        }
        // Reads go on.
        _ = try await harness.auth.authenticate(accessToken: ana.accessToken)
    }
}
