import Foundation
import PorteroCore
import Testing

/// The snapshot of an ``AuthState`` read and written over the bytes (`readSnapshot`, `writeSnapshot`) against the
/// definition of the format, `Codable` through ``SnapshotJSON``: the same bytes out, the same state in, both ways,
/// and every input the fast reader is unsure of left to `JSONDecoder`.
@Suite("AuthState snapshots")
struct AuthStateSnapshotTests {
    // MARK: Same bytes, same state

    @Test("the writer writes exactly what JSONEncoder writes, for rich and random states")
    func writerMatchesJSONEncoder() throws {
        var states = [Self.richState()]
        var random = SeededGenerator(seed: 20_261_203)
        for _ in 0..<40 {
            states.append(Self.randomState(using: &random))
        }
        for state in states {
            let old = try SnapshotJSON.encode(state)
            let new = try Self.write(state)
            #expect(new == old, "\(Self.firstDifference(new, old))")
        }
    }

    @Test("a snapshot written the old way reads the same fast, and one written the new way reads the old way")
    func bothDirections() throws {
        var states = [Self.richState(), AuthState()]
        var random = SeededGenerator(seed: 7)
        for _ in 0..<40 {
            states.append(Self.randomState(using: &random))
        }
        for state in states {
            let old = try SnapshotJSON.encode(state)
            #expect(try Self.readFast(old) == state)
            #expect(try Self.decodeOld(old) == state)
            let new = try Self.write(state)
            #expect(try Self.decodeOld(new) == state)
        }
    }

    @Test("dates: exact ones as UTC timestamps, others as seconds since 2001, each back bit for bit")
    func dates() throws {
        var state = Self.richState()
        let odd = [
            Date(timeIntervalSinceReferenceDate: 0.000_123_4), Date(timeIntervalSinceReferenceDate: -1e9 + 0.3),
            Date(timeIntervalSince1970: 1_800_000_000.000_5), .distantFuture, .distantPast,
            Date(timeIntervalSince1970: 0),
        ]
        for (index, date) in odd.enumerated() {
            var user = Self.user(index: 1000 + index, createdAt: date)
            user.lastLoginAt = date
            state.apply(.userRegistered(user), seq: 1, at: date)
        }
        let bytes = try Self.write(state)
        #expect(bytes == (try SnapshotJSON.encode(state)))
        let read = try #require(try Self.readFast(bytes))
        #expect(read == state)
        for index in odd.indices {
            let id = Self.user(index: 1000 + index, createdAt: .now).id
            #expect(
                read.user(id: id)?.createdAt.timeIntervalSinceReferenceDate.bitPattern
                    == state.user(id: id)?.createdAt.timeIntervalSinceReferenceDate.bitPattern)
        }
    }

    @Test("the format-1 fixture written by Portero 0.1.0 reads the same fast and is written again byte for byte")
    func fixture() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/store-format-1/snapshot-0000000000000027.json").path
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let prefix = Array(#"{"format":1,"seq":27,"at":"2026-12-03T13:45:04.984Z","state":"#.utf8)
        #expect(Array(file.prefix(prefix.count)) == prefix)
        let state = Array(file[prefix.count..<(file.count - 19)])
        let old = try Self.decodeOld(state)
        #expect(old.users.count == 3)
        #expect(try Self.readFast(state) == old)
        #expect(try Self.write(old) == state)
    }

    @Test("a mail id twice is refused by both readers, without a trap")
    func duplicateMail() throws {
        let mail = Self.mail(index: 1)
        var state = AuthState()
        state.apply(.mailQueued(mail), seq: 1, at: mail.queuedAt)
        let one = String(decoding: try SnapshotJSON.encode(state), as: UTF8.self)
        let mailJSON = String(decoding: try SnapshotJSON.encode([mail]), as: UTF8.self).dropFirst().dropLast()
        let twice = one.replacingOccurrences(of: "[\(mailJSON)]", with: "[\(mailJSON),\(mailJSON)]")
        #expect(twice != one)
        #expect(throws: (any Error).self) { try Self.decodeOld(Array(twice.utf8)) }
        #expect(throws: SnapshotJSONReadError.self) { try Self.readFast(Array(twice.utf8)) }
    }

    @Test("a state over a megabyte is read in two halves on two cores, as JSONDecoder reads it")
    func largeState() throws {
        var state = AuthState()
        // A name that holds the very bytes the second half is looked for by, escaped as in any string.
        let decoy = #"},{"createdAt":"2026-01-01T00:00:00.000Z","#
        for index in 0..<4000 {
            var user = Self.user(index: index, createdAt: Self.base.addingTimeInterval(Double(index % 10)))
            user.name = index % 2 == 0 ? decoy : "Name \(index)"
            user.roles = ["user"]
            state.apply(.userRegistered(user), seq: UInt64(index), at: Self.base)
        }
        let bytes = try Self.write(state)
        #expect(bytes.count > 1 << 20)
        #expect(bytes == (try SnapshotJSON.encode(state)))
        let read = try #require(try Self.readFast(bytes))
        #expect(read == state)
        #expect(read.users.count == 4000)
        // Damage in the second half is still refused.
        var damaged = bytes
        damaged[bytes.count * 3 / 4] = 0x00
        #expect(throws: SnapshotJSONReadError.self) { try Self.readFast(damaged) }
        // And in the first.
        damaged = bytes
        damaged[bytes.count / 4] = 0x00
        #expect(throws: SnapshotJSONReadError.self) { try Self.readFast(damaged) }
    }

    @Test(
        "valid JSON the writer does not write (white space, escapes, numbers as dates) is still read fast",
        arguments: [
            " {\n\"codes\" : { } ,\t\"lockouts\":{},\"outbox\":[ ],\"revoked_token_ids\":{},\"sessions\":[],\"spent_tokens\":{},\"users\":[] } \n",
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"\ud83d\ude00 \u00e9\"\\\/\b\f\n\r\t\u0000":"2026-12-03T13:45:04.863Z"},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"j":12.5,"k":-3e2,"l":0},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"users":[],"spent_tokens":{},"sessions":[],"revoked_token_ids":{},"outbox":[],"lockouts":{},"codes":{}}"#,
        ]
    )
    func validButUnusual(_ text: String) throws {
        let bytes = Array(text.utf8)
        let fast = try Self.readFast(bytes)
        #expect(fast != nil)
        #expect(fast == (try Self.decodeOld(bytes)))
    }

    // MARK: Hostile and damaged input

    @Test(
        "what the fast reader refuses, JSONDecoder decides",
        arguments: [
            // duplicate members: JSONDecoder's business
            #"{"codes":{},"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{"a":1,"a":2},"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            // unknown member: JSONDecoder ignores it
            #"{"codes":{},"extra":[1,{"x":null}],"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            // escaped member name: JSONDecoder matches it unescaped
            #"{"\u0063odes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            // a number where JSONDecoder may read an Int
            #"{"codes":{},"lockouts":{"k":{"failures":1.0,"lastFailureAt":"2026-12-03T13:45:04.863Z"}},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{"k":{"failures":1e2,"lastFailureAt":"2026-12-03T13:45:04.863Z"}},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{"k":{"failures":-0,"lastFailureAt":"2026-12-03T13:45:04.863Z"}},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            // huge numbers
            #"{"codes":{},"lockouts":{"k":{"failures":99999999999999999999999,"lastFailureAt":1e400}},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"j":-1e999},"sessions":[],"spent_tokens":{},"users":[]}"#,
            // a date given as seconds since 2001
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"j":12.5},"sessions":[],"spent_tokens":{},"users":[]}"#,
            // wrong types
            #"{"codes":[],"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"j":true},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"j":null},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":{}}"#,
            // missing member
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{}}"#,
            // escapes, surrogates, control characters
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"\ud800":"2026-12-03T13:45:04.863Z"},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"\udc00x":"2026-12-03T13:45:04.863Z"},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"\ud83d\ude00 \u00e9\"\\\/\b\f\n\r\t\u0000":"2026-12-03T13:45:04.863Z"},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"\x":"2026-12-03T13:45:04.863Z"},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"\u12":"2026-12-03T13:45:04.863Z"},"sessions":[],"spent_tokens":{},"users":[]}"#,
            "{\"codes\":{},\"lockouts\":{},\"outbox\":[],\"revoked_token_ids\":{\"a\tb\":\"2026-12-03T13:45:04.863Z\"},\"sessions\":[],\"spent_tokens\":{},\"users\":[]}",
            // a date that is not one
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"j":"2026-02-30T13:45:04.863Z"},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{"j":"2026-12-03T13:45:04.86Z"},"sessions":[],"spent_tokens":{},"users":[]}"#,
            // white space anywhere
            " {\n\"codes\" : { } ,\t\"lockouts\":{},\"outbox\":[ ],\"revoked_token_ids\":{},\"sessions\":[],\"spent_tokens\":{},\"users\":[] } \n",
            // bytes after the state, bad structure
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}x"#,
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[],}"#,
            #"{"codes":{},"lockouts":{},"outbox":[,],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            #"{"codes":{}"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":[]}"#,
            "", "{", "[]", "null", "{}",
        ]
    )
    func hostile(_ text: String) throws {
        Self.expectAgreement(Array(text.utf8))
    }

    @Test("deep nesting, invalid UTF-8 and every truncation are refused or read as JSONDecoder reads them")
    func damage() throws {
        let state = Self.richState()
        let bytes = try SnapshotJSON.encode(state)
        // Every prefix: a snapshot cut anywhere.
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: SnapshotJSONReadError.self) { try Self.readFast(Array(bytes[0..<length])) }
        }
        // Each byte replaced by something else, at a sample of places.
        for position in stride(from: 0, to: bytes.count, by: 13) {
            for replacement: UInt8 in [0x00, 0x22, 0x5C, 0x7B, 0x5D, 0x31, 0xFF, 0xC3, 0x20] {
                var damaged = bytes
                damaged[position] = replacement
                Self.expectAgreement(damaged)
            }
        }
        // Invalid UTF-8 inside a string and deep nesting where a value is expected.
        let email = Array("user0@example.com".utf8)
        if let start = bytes.firstRange(of: email)?.lowerBound {
            var damaged = bytes
            damaged[start + 1] = 0xC3
            Self.expectAgreement(damaged)
            #expect(throws: SnapshotJSONReadError.self) { try Self.readFast(damaged) }
        }
        let deep =
            #"{"codes":{},"lockouts":{},"outbox":[],"revoked_token_ids":{},"sessions":[],"spent_tokens":{},"users":"#
            + String(repeating: "[", count: 100_000)
        Self.expectAgreement(Array(deep.utf8))
        #expect(throws: SnapshotJSONReadError.self) { try Self.readFast(Array(deep.utf8)) }
    }

    // MARK: Helpers

    /// The fast reader either refuses `bytes` or reads exactly the state JSONDecoder reads (so it never accepts what
    /// JSONDecoder refuses).
    static func expectAgreement(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let fast: AuthState?
        do {
            fast = try readFast(bytes)
        } catch {
            return
        }
        let old = try? decodeOld(bytes)
        #expect(fast != nil && fast == old, "fast reader and JSONDecoder differ", sourceLocation: sourceLocation)
    }

    static func readFast(_ bytes: [UInt8]) throws(SnapshotJSONReadError) -> AuthState? {
        try AuthState.readSnapshot(bytes[...])
    }

    static func decodeOld(_ bytes: [UInt8]) throws -> AuthState {
        try bytes.withUnsafeBufferPointer { try SnapshotJSON.decode(AuthState.self, from: $0) }
    }

    /// Written through a writer that flushes every 64 bytes, so that pieces are joined too.
    static func write(_ state: AuthState) throws -> [UInt8] {
        var out: [UInt8] = []
        var writer = SnapshotJSONWriter(threshold: 64) { out.append(contentsOf: $0) }
        try state.writeSnapshot(to: &writer)
        try writer.flush()
        return out
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let index = zip(a.indices, zip(a, b)).first { $0.1.0 != $0.1.1 }?.0 ?? min(a.count, b.count)
        let context = { (bytes: [UInt8]) in
            String(decoding: bytes[max(0, index - 60)..<min(bytes.count, index + 60)], as: UTF8.self)
        }
        return "first difference at \(index):\n\(context(a))\n\(context(b))"
    }

    static let base = Date(timeIntervalSince1970: 1_800_000_000)

    static func user(index: Int, createdAt: Date) -> User {
        let id = UUID(uuidString: String(format: "%08X-0000-4000-8000-%012X", index, index))!
        var user = User(
            id: id, email: try! Email(validating: "user\(index)@example.com"), name: nil, phone: nil,
            passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo\(index)", createdAt: createdAt)
        user.email = "User\(index)@Example.com"
        return user
    }

    static func mail(index: Int) -> OutboxMail {
        OutboxMail(
            id: UUID(uuidString: String(format: "%08X-1111-4000-8000-%012X", index, index))!,
            to: "user\(index)@example.com", subject: "Your code", text: "Code: 123456\r\n/path\\ \"quoted\"",
            kind: "verify_email", code: "123456", userID: nil, queuedAt: base.addingTimeInterval(Double(index)),
            expiresAt: nil)
    }

    /// Every kind of thing a state holds, with every optional field both set and not, strings that need escaping,
    /// non-ASCII, and accounts made at the same instant.
    static func richState() -> AuthState {
        var state = AuthState()
        let strange = "Zoë \"Q\" \\ / \u{0}\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f} 😀 עברית \u{2028}"
        for index in 0..<6 {
            var user = user(index: index, createdAt: base.addingTimeInterval(Double(index / 2)))
            if index % 2 == 0 {
                user.name = index == 0 ? strange : "Name \(index)"
                user.phone = "+1 555 0100"
                user.passwordImported = index == 2 ? false : true
                user.emailVerified = true
                user.roles = ["user", "admin", strange]
                user.lastLoginAt = base.addingTimeInterval(100)
                user.lastLoginIP = "2001:db8::1"
                user.tokensValidAfter = base.addingTimeInterval(50)
                user.locale = "de-CH"
            } else {
                user.roles = []
                user.unverifiedUntil = base.addingTimeInterval(86_400)
            }
            state.apply(.userRegistered(user), seq: UInt64(index + 1), at: user.createdAt)
            state.apply(
                .codeIssued(
                    OneTimeCode(
                        userID: user.id, purpose: index % 2 == 0 ? .resetPassword : .verifyEmail,
                        digest: String(repeating: "ab", count: 32), issuedAt: base,
                        expiresAt: base.addingTimeInterval(900))),
                seq: 10, at: base)
            let session = RefreshSession(
                id: UUID(uuidString: String(format: "%08X-2222-4000-8000-%012X", index, index))!, userID: user.id,
                tokenDigest: "digest-\(index)", createdAt: base.addingTimeInterval(Double(index / 3)),
                expiresAt: base.addingTimeInterval(3600), ip: index % 2 == 0 ? "192.0.2.\(index)" : nil,
                userAgent: index % 3 == 0 ? strange : nil)
            state.apply(.sessionCreated(session), seq: 20, at: base)
            if index % 2 == 0 {
                state.apply(
                    .sessionRotated(
                        .init(
                            sessionID: session.id, newTokenDigest: "rotated-\(index)", at: base.addingTimeInterval(5),
                            expiresAt: base.addingTimeInterval(7200))),
                    seq: 21, at: base)
            }
            state.apply(
                .tokenRevoked(.init(jti: "jti-\(index)-\(strange)", userID: user.id, expiresAt: base)), seq: 22,
                at: base)
            state.apply(
                .loginFailed(
                    .init(
                        emailKey: "user\(index)@example.com", at: base, failures: index + 1,
                        lockedUntil: index % 2 == 0 ? base.addingTimeInterval(60) : nil,
                        expiresAt: index % 3 == 0 ? base.addingTimeInterval(600) : nil)),
                seq: 23, at: base)
        }
        state.apply(
            .userLocked(.init(userID: user(index: 5, createdAt: base).id, emailKey: "user5@example.com", at: base)),
            seq: 30, at: base)
        for index in 0..<4 {
            var mail = mail(index: index)
            if index == 1 {
                mail.code = nil
                mail.userID = user(index: 1, createdAt: base).id
                mail.expiresAt = base.addingTimeInterval(900)
            }
            state.apply(.mailQueued(mail), seq: 40, at: base)
            if index >= 2 {
                state.apply(
                    .mailAttempted(.init(id: mail.id, attempts: index, nextAttemptAt: base, error: "550 \(strange)")),
                    seq: 41, at: base)
            }
            if index == 3 {
                state.apply(.mailDone(.init(id: mail.id, delivered: false)), seq: 42, at: base)
                state.apply(.mailRetried(.init(id: mail.id, at: base.addingTimeInterval(3))), seq: 43, at: base)
            }
        }
        var html = mail(index: 9)
        html.html = "<p>\(strange)</p>"
        state.apply(.mailQueued(html), seq: 44, at: base)
        return state
    }

    /// A state from random records: random strings (any scalars), dates on and off the millisecond, ties.
    static func randomState(using random: inout SeededGenerator) -> AuthState {
        var state = AuthState()
        func text() -> String {
            let length = Int.random(in: 0..<12, using: &random)
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length {
                let pick = Int.random(in: 0..<10, using: &random)
                let value: UInt32 =
                    pick < 5
                    ? UInt32.random(in: 0x20..<0x7F, using: &random)
                    : pick < 7
                        ? UInt32.random(in: 0..<0x20, using: &random)
                        : UInt32.random(in: 0x80..<0x11_0000, using: &random)
                if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
            }
            return String(scalars)
        }
        func date() -> Date {
            let milliseconds = Double(Int64.random(in: 1_700_000_000_000..<1_900_000_000_000, using: &random))
            if Bool.random(using: &random) { return Date(timeIntervalSince1970: milliseconds / 1000) }
            return Date(timeIntervalSinceReferenceDate: Double.random(in: -1e10..<1e10, using: &random))
        }
        func uuid() -> UUID {
            var bytes = [UInt8](repeating: 0, count: 16)
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &random) }
            return UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                    bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
        }
        let tie = date()
        var userIDs: [UUID] = []
        for _ in 0..<Int.random(in: 0..<8, using: &random) {
            var user = User(
                id: uuid(), email: try! Email(validating: "a@example.com"), name: nil, phone: nil,
                passwordHash: text(), createdAt: Bool.random(using: &random) ? tie : date())
            user.email = text()
            user.emailKey = text()
            if Bool.random(using: &random) { user.name = text() }
            if Bool.random(using: &random) { user.phone = text() }
            if Bool.random(using: &random) { user.passwordImported = Bool.random(using: &random) }
            user.emailVerified = Bool.random(using: &random)
            user.roles = (0..<Int.random(in: 0..<3, using: &random)).map { _ in text() }
            user.updatedAt = date()
            if Bool.random(using: &random) { user.lastLoginAt = date() }
            if Bool.random(using: &random) { user.lastLoginIP = text() }
            if Bool.random(using: &random) { user.tokensValidAfter = date() }
            if Bool.random(using: &random) { user.unverifiedUntil = date() }
            if Bool.random(using: &random) { user.locale = text() }
            userIDs.append(user.id)
            state.apply(.userRegistered(user), seq: 1, at: tie)
        }
        for userID in userIDs where Bool.random(using: &random) {
            var code = OneTimeCode(
                userID: userID, purpose: Bool.random(using: &random) ? .verifyEmail : .resetPassword, digest: text(),
                issuedAt: date(), expiresAt: date())
            code.failedAttempts = 0
            state.apply(.codeIssued(code), seq: 2, at: tie)
            state.apply(
                .sessionCreated(
                    RefreshSession(
                        id: uuid(), userID: userID, tokenDigest: text(),
                        createdAt: Bool.random(using: &random) ? tie : date(),
                        expiresAt: date(), ip: Bool.random(using: &random) ? text() : nil,
                        userAgent: Bool.random(using: &random) ? text() : nil)),
                seq: 3, at: tie)
            state.apply(.tokenRevoked(.init(jti: text(), userID: userID, expiresAt: date())), seq: 4, at: tie)
            state.apply(
                .loginFailed(
                    .init(
                        emailKey: text(), at: date(), failures: Int.random(in: -3..<1_000_000, using: &random),
                        lockedUntil: Bool.random(using: &random) ? date() : nil,
                        expiresAt: Bool.random(using: &random) ? date() : nil)),
                seq: 5, at: tie)
        }
        for _ in 0..<Int.random(in: 0..<3, using: &random) {
            var mail = OutboxMail(
                id: uuid(), to: text(), subject: text(), text: text(), kind: text(),
                code: Bool.random(using: &random) ? text() : nil, userID: Bool.random(using: &random) ? uuid() : nil,
                queuedAt: Bool.random(using: &random) ? tie : date(),
                expiresAt: Bool.random(using: &random) ? date() : nil)
            if Bool.random(using: &random) { mail.html = text() }
            state.apply(.mailQueued(mail), seq: 6, at: tie)
            if Bool.random(using: &random) {
                state.apply(
                    .mailAttempted(
                        .init(
                            id: mail.id, attempts: Int.random(in: 1..<9, using: &random), nextAttemptAt: date(),
                            error: text())),
                    seq: 7, at: tie)
            }
        }
        return state
    }
}

/// SplitMix64: the same random states on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
