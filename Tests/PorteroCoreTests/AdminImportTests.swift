import Foundation
import Logging
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

/// `AdminService.importUsers` (and the admin's create and reset-password) against a MemoryStore with a test clock:
/// what an import creates, what a second import changes and what it never touches, bad items, and the audit trail.
@Suite("Use cases: admin import, create, reset-password")
struct AdminImportTests {
    struct Fixture {
        let harness: AuthHarness
        let admin: AdminService
        let log = StoreLogRecorder()

        init() async throws {
            harness = try await AuthHarness()
            admin = AdminService(store: harness.store, clock: harness.clock.source)
        }

        var peer: AdminPeer { AdminPeer(uid: 0, pid: 4242, userName: "root", logger: log.logger) }

        func run(_ lines: [String]) async throws -> ImportReport {
            let items = try lines.map { try StrictJSONParser().parse(Array($0.utf8)) }
            return try await admin.importUsers(items, peer: peer)
        }

        func user(_ email: String) async -> User? {
            await harness.store.state.user(emailKey: email.lowercased())
        }
    }

    /// "password" under werkzeug's pbkdf2:sha256 with 2 rounds and salt "salt".
    static let werkzeug = "pbkdf2:sha256:2$salt$ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"

    @Test func createsAccountsKeepingTheirHashesAndLogsInOnce() async throws {
        let fixture = try await Fixture()
        let report = try await fixture.run([
            #"{"email":" Ada@Example.com ","password_hash":"\#(Self.werkzeug)","name":"Ada","phone":"+44 20","#
                + #""email_verified":true,"roles":["user","admin"],"created_at":"2020-05-01T08:00:00+02:00"}"#,
            #"{"email":"bob@example.com"}"#,
        ])
        #expect(report == ImportReport(imported: 2, updated: 0, unchanged: 0, skipped: []))
        let ada = try #require(await fixture.user("ada@example.com"))
        #expect(ada.email == "Ada@Example.com" && ada.name == "Ada" && ada.phone == "+44 20")
        #expect(ada.emailVerified && ada.roles == ["user", "admin"] && ada.passwordHash == Self.werkzeug)
        #expect(ada.createdAt == Date(timeIntervalSince1970: 1_588_312_800))
        #expect(ada.unverifiedUntil == nil && ada.passwordImported == true)
        let bob = try #require(await fixture.user("bob@example.com"))
        #expect(!bob.emailVerified && bob.roles == ["user"] && bob.passwordHash == PasswordHasher.noPassword)

        // The imported hash signs in with its password; the login rehashes it with the configured algorithm.
        await #expect(throws: PorteroError.self) { try await fixture.harness.login("ada@example.com", "wrong") }
        _ = try await fixture.harness.login("ada@example.com", "password")
        let rehashed = try #require(await fixture.user("ada@example.com"))
        #expect(rehashed.passwordHash.hasPrefix("$argon2id$") && rehashed.passwordImported == nil)
        _ = try await fixture.harness.login("ada@example.com", "password")
        // No password was imported for bob: nothing signs in until a reset gives one.
        await #expect(throws: PorteroError.self) { try await fixture.harness.login("bob@example.com", "!") }

        // The audit record counts the batch.
        let audits = await fixture.harness.store.records.compactMap {
            if case .adminAction(let audit) = $0 { audit } else { nil }
        }
        #expect(audits.map(\.action) == ["users_imported"])
        #expect(audits.first?.imported == 2 && audits.first?.updated == 0 && audits.first?.peerUID == 0)
    }

    @Test func aSecondImportCreatesNoOneAndNeverBringsBackAnOldPassword() async throws {
        let fixture = try await Fixture()
        let line = #"{"email":"ada@example.com","password_hash":"\#(Self.werkzeug)","email_verified":true}"#
        _ = try await fixture.run([line])
        let again = try await fixture.run([line, line])
        #expect(again == ImportReport(imported: 0, updated: 0, unchanged: 2, skipped: []))
        #expect(await fixture.harness.store.state.users.count == 1)

        // After a login the stored hash is Portero's own: importing the old file again does not replace it.
        _ = try await fixture.harness.login("ada@example.com", "password")
        let after = try #require(await fixture.user("ada@example.com")).passwordHash
        let other = "pbkdf2:sha1:4096$salt$4b007901b765489abead49d926f721d065a429c1"
        let third = try await fixture.run([
            #"{"email":"ADA@example.com","password_hash":"\#(other)","email_verified":false,"name":"Ada L"}"#
        ])
        #expect(third == ImportReport(imported: 0, updated: 1, unchanged: 0, skipped: []))
        let ada = try #require(await fixture.user("ada@example.com"))
        #expect(ada.passwordHash == after && ada.emailVerified && ada.name == "Ada L")
    }

    @Test func anImportedHashNotYetUsedIsReplacedByANewerOne() async throws {
        let fixture = try await Fixture()
        _ = try await fixture.run([#"{"email":"ada@example.com","password_hash":"\#(Self.werkzeug)"}"#])
        let newer = "pbkdf2:sha1:4096$salt$4b007901b765489abead49d926f721d065a429c1"
        let report = try await fixture.run([
            #"{"email":"ada@example.com","password_hash":"\#(newer)","roles":[]}"#
        ])
        #expect(report.updated == 1)
        let ada = try #require(await fixture.user("ada@example.com"))
        #expect(ada.passwordHash == newer && ada.passwordImported == true && ada.roles.isEmpty)
    }

    @Test func badItemsAreSkippedWithTheirReasonAndTheRestGoIn() async throws {
        let fixture = try await Fixture()
        let report = try await fixture.run([
            #"{"email":"ok@example.com"}"#,
            #"{"email":"not an address"}"#,
            #"{"email":"x@example.com","password_hash":"md5$abc$def"}"#,
            #"{"email":"y@example.com","passwordHash":"$2b$04$abc"}"#,
            #"{"email":"z@example.com","roles":"admin"}"#,
            #"{"email":"w@example.com","created_at":"yesterday"}"#,
            #"{"email":"v@example.com","email_verified":"yes"}"#,
            #"["not","an","object"]"#,
        ])
        #expect(report.imported == 1)
        #expect(report.skipped.map(\.index) == [1, 2, 3, 4, 5, 6, 7])
        let reasons = report.skipped.map(\.reason)
        #expect(reasons[0].hasPrefix("email:") && reasons[1].hasPrefix("password_hash: unknown format"))
        #expect(reasons[2].hasPrefix("passwordHash: unknown field") && reasons[3].hasPrefix("roles:"))
        #expect(reasons[4].hasPrefix("created_at:") && reasons[5].hasPrefix("email_verified:"))
        // No reason repeats a hash.
        #expect(!reasons.contains { $0.contains("md5$abc") })
    }

    @Test func aKeycloakCredentialBecomesItsStringForm() async throws {
        let fixture = try await Fixture()
        let credential =
            #"{"type":"password","secretData":"{\"value\":\"hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLALUcKKFoFAbrZmb/pQ8CPBQI119aLHaVeY/c7YKV/zg==\",\"salt\":\"c2FsdA==\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":1,\"algorithm\":\"pbkdf2-sha512\",\"additionalParameters\":{}}"}"#
        let report = try await fixture.run([
            #"{"email":"kc@example.com","email_verified":true,"password_hash":\#(credential)}"#
        ])
        #expect(report.imported == 1, "\(report)")
        let user = try #require(await fixture.user("kc@example.com"))
        #expect(user.passwordHash.hasPrefix("pbkdf2-sha512$1$c2FsdA==$"))
        _ = try await fixture.harness.login("kc@example.com", "password")
    }

    @Test func anAdminCreatesAUserUnderThePolicyOnce() async throws {
        let fixture = try await Fixture()
        let auth = fixture.harness.auth
        let email = try fixture.harness.email("new@example.com")
        #expect(throws: PasswordPolicyFailure.self) { _ = try auth.newPassword("password") }
        let created = try await auth.createUser(
            email: email, password: try auth.newPassword("correct horse battery"), profile: .none, verified: true,
            roles: ["staff"], peer: fixture.peer)
        #expect(created.user.emailVerified && created.user.roles == ["staff"])
        _ = try await fixture.harness.login("new@example.com")
        await #expect(throws: PorteroError(.userExists, "An account with this email already exists.")) {
            _ = try await auth.createUser(
                email: email, password: try auth.newPassword("another horse battery"), profile: .none,
                verified: false, roles: nil, peer: fixture.peer)
        }
    }

    @Test func anAdminStartsAPasswordResetThatMailsACode() async throws {
        let fixture = try await Fixture()
        _ = try await fixture.harness.verifiedUser("ada@example.com")
        _ = try await fixture.harness.auth.startPasswordReset(
            try UserReference(parsing: "ada@example.com"), peer: fixture.peer)
        let code = try #require(await fixture.harness.mailedCode(to: "ada@example.com", .resetPassword))
        try await fixture.harness.resetPassword(
            email: try fixture.harness.email("ada@example.com"), code: code,
            new: try fixture.harness.auth.newPassword("a new horse battery"), caller: fixture.harness.caller())
        _ = try await fixture.harness.login("ada@example.com", "a new horse battery")
        await #expect(throws: PorteroError.self) {
            _ = try await fixture.harness.auth.startPasswordReset(
                try UserReference(parsing: "nobody@example.com"), peer: fixture.peer)
        }
    }
}
