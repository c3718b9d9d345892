import Foundation
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

@Suite("Use cases: the portero_session cookie")
struct AuthCookieTests {
    @Test func aCookieIsAnOpaqueSecretBoundToItsSession() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let cookie = harness.auth.sessionCookie(for: signedIn.sessionID)
        #expect(!cookie.hasPrefix("eyJ"))
        #expect(cookie.split(separator: ".").count == 2)
        let before = await harness.store.lastSeq
        let session = try await harness.auth.authenticate(sessionCookie: cookie)
        #expect(session.user.id == signedIn.user.id)
        #expect(session.sessionID == signedIn.sessionID)
        #expect(await harness.store.lastSeq == before)
        let identity = try await harness.auth.forwardAuth(sessionCookie: cookie, requiredRole: "user")
        #expect(identity.email == "ana@example.com")
        await #expect(throws: PorteroError.self) {
            _ = try await harness.auth.forwardAuth(sessionCookie: cookie, requiredRole: "admin")
        }
    }

    @Test func aForgedOrAlteredCookieIsInvalid() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let id = signedIn.sessionID.uuidString.lowercased()
        let good = harness.auth.sessionCookie(for: signedIn.sessionID)
        let flipped = String(good.dropLast()) + (good.hasSuffix("0") ? "1" : "0")
        for value in [
            flipped, id, id + ".", id + "." + String(repeating: "0", count: 64), good.uppercased(),
            signedIn.accessToken, signedIn.refreshToken, "", ".", good + "0",
        ] {
            do {
                _ = try await harness.auth.authenticate(sessionCookie: value)
                Issue.record("\(value.prefix(12))… was accepted")
            } catch let error as PorteroError {
                #expect(error.code == .invalidToken)
            }
        }
    }

    @Test(arguments: ["logout", "logout-all", "session", "password change", "password reset", "sign-out"])
    func everyWayOfEndingTheSessionEndsTheCookieAtOnce(_ how: String) async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let cookie = harness.auth.sessionCookie(for: signedIn.sessionID)
        _ = try await harness.auth.authenticate(sessionCookie: cookie)
        let auth = try await harness.auth.authenticate(accessToken: signedIn.accessToken)
        harness.clock.advance(by: 1)
        switch how {
        case "logout": try await harness.auth.logout(auth, refreshToken: nil, caller: harness.caller())
        case "logout-all":
            // From another session: the cookie's session ends too.
            let other = try await harness.login("ana@example.com")
            let otherAuth = try await harness.auth.authenticate(accessToken: other.accessToken)
            try await harness.auth.logoutAll(otherAuth, caller: harness.caller())
        case "session":
            try await harness.auth.revokeSession(auth, id: signedIn.sessionID, caller: harness.caller())
        case "password change": try await harness.changePasswordFromAnotherSession("ana@example.com")
        case "password reset": try await harness.resetPasswordByMailedCode("ana@example.com")
        default:
            let session = try await harness.auth.authenticate(sessionCookie: cookie)
            try await harness.auth.signOut(session, caller: harness.caller())
        }
        do {
            _ = try await harness.auth.authenticate(sessionCookie: cookie)
            Issue.record("the cookie outlived \(how)")
        } catch let error as PorteroError {
            #expect(error.code == .tokenRevoked)
        }
        if how == "sign-out" {
            // Signing out ends the session, and so the tokens issued with it.
            await #expect(throws: PorteroError.self) {
                _ = try await harness.auth.authenticate(accessToken: signedIn.accessToken)
            }
        }
    }

    @Test func anExpiredSessionsCookieIsExpired() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let cookie = harness.auth.sessionCookie(for: signedIn.sessionID)
        harness.clock.advance(by: Double(harness.auth.configuration.refreshTTL.seconds) + 1)
        do {
            _ = try await harness.auth.authenticate(sessionCookie: cookie)
            Issue.record("an expired session's cookie was accepted")
        } catch let error as PorteroError {
            #expect(error.code == .tokenExpired)
        }
    }

    @Test func theCSRFTokenIsTheSessionsOwn() async throws {
        let harness = try await AuthHarness()
        let one = try await harness.verifiedUser("ana@example.com")
        let two = try await harness.login("ana@example.com")
        let token = harness.auth.csrfToken(for: one.sessionID)
        #expect(harness.auth.checkCSRF(token, sessionID: one.sessionID))
        #expect(!harness.auth.checkCSRF(token, sessionID: two.sessionID))
        #expect(!harness.auth.checkCSRF(nil, sessionID: one.sessionID))
        #expect(!harness.auth.checkCSRF("", sessionID: one.sessionID))
        #expect(token != harness.auth.sessionCookie(for: one.sessionID).split(separator: ".").last.map(String.init))
    }
}
