import Foundation
import PorteroCore
import PorteroStore

/// Inputs built with Portero's own types, as the daemon makes them: a token service with the daemon's TTLs, a
/// registered user with a default-cost argon2id hash, a refresh session, and the log lines the store writes.
struct Fixtures: Sendable {
    let now: Date
    let tokens: TokenService
    let accessToken: String
    let user: User
    let session: RefreshSession
    /// An auth state with `population` users, each with one refresh session (the user and session above among them).
    let state: AuthState

    /// `population` users and sessions in ``state``; `algorithm` signs the tokens.
    static func make(algorithm: SigningKey.Algorithm = .hs256, population: Int = 10_000) async throws -> Fixtures {
        let now = Date(timeIntervalSince1970: 1_796_000_000.123)
        guard let ring = SigningKeyRing(keys: [.generate(algorithm, now: now)], retention: .seconds(960), now: now)
        else { throw FixtureError("no signing key ring") }
        let tokens = TokenService(
            signingKeys: await SigningKeys.make(ring), issuer: "http://127.0.0.1:5500", audience: "portero",
            accessTTL: .seconds(900), verificationTTL: .seconds(900))
        let hash = try PasswordHasher(configuration: .init()).hash("correct horse battery staple")
        var state = AuthState()
        var seq: UInt64 = 0
        var last: (User, RefreshSession)?
        for index in 0..<population {
            let user = makeUser(index: index, hash: hash, now: now)
            let session = makeSession(for: user, now: now)
            seq += 1
            state.apply(.userRegistered(user), seq: seq, at: now)
            seq += 1
            state.apply(.sessionCreated(session), seq: seq, at: now)
            last = (user, session)
        }
        guard let (user, session) = last else { throw FixtureError("population must be at least 1") }
        let issued = try tokens.issueAccessToken(
            userID: user.id, sessionID: session.id, email: user.email, emailVerified: user.emailVerified,
            roles: user.roles, now: now)
        return Fixtures(
            now: now, tokens: tokens, accessToken: issued.token, user: user, session: session, state: state)
    }

    /// A verified user as registration and verification leave it: name, phone, locale, a last login.
    static func makeUser(index: Int, hash: String, now: Date) -> User {
        // The test's own addresses are valid by construction; a failure here is a bug in the fixture.
        let email = (try? Email(validating: "user\(index)@example.org"))!
        var user = User(
            id: UUID(), email: email, name: "User Number \(index)", phone: "+4930\(1_000_000 + index)",
            passwordHash: hash, createdAt: now)
        user.emailVerified = true
        user.locale = "en"
        user.lastLoginAt = now
        user.lastLoginIP = "192.0.2.\(index % 250 + 1)"
        return user
    }

    /// A refresh session as login makes it: the digest of a fresh refresh token, the refresh TTL, IP and agent.
    static func makeSession(for user: User, now: Date) -> RefreshSession {
        RefreshSession(
            id: UUID(), userID: user.id, tokenDigest: Secrets.sha256Hex(Secrets.makeRefreshToken()), createdAt: now,
            expiresAt: now.addingTimeInterval(30 * 86_400), ip: user.lastLoginIP,
            userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
    }

    /// The rotation `/refresh` appends for ``session``: a new token's digest, the sliding expiry.
    func rotation(at offset: TimeInterval) -> AuthRecord {
        .sessionRotated(
            .init(
                sessionID: session.id, newTokenDigest: Secrets.sha256Hex(Secrets.makeRefreshToken()),
                at: now.addingTimeInterval(offset), expiresAt: now.addingTimeInterval(offset + 30 * 86_400)))
    }

    /// One log line of `record` as a commit writes it, and its range without the newline.
    func logLine(_ record: AuthRecord, seq: UInt64 = 1_000_001) throws -> LogLine {
        var bytes: [UInt8] = []
        try StoreLogCodec.appendLines([record], firstSeq: seq, at: now, to: &bytes)
        return LogLine(bytes: bytes, range: 0..<(bytes.count - 1))
    }
}

/// One log line and its range without the newline.
struct LogLine: Sendable {
    let bytes: [UInt8]
    let range: Range<Int>
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
