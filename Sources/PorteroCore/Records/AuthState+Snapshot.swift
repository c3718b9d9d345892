public import Foundation
import Dispatch
import Synchronization

/// The snapshot of an ``AuthState`` read and written directly over the bytes, in exactly the JSON its `Codable`
/// conformance reads and writes (docs/data-directory.md): what start-up with a million accounts spends its time on.
///
/// The reader is strict: anything unusual (a duplicate or unknown member, an escaped member name, a wrong type) makes
/// it give up, and the store then reads the snapshot with `JSONDecoder`, so what loads, and how, is what `Codable`
/// decides (an unknown member, say from a newer version, is ignored: slowly).
extension AuthState {
    public static func readSnapshot(_ bytes: ArraySlice<UInt8>) throws(SnapshotJSONReadError) -> AuthState? {
        try bytes.withUnsafeBufferPointer { buffer throws(SnapshotJSONReadError) in
            var reader = SnapshotJSONReader(buffer)
            return try read(&reader, bytes)
        }
    }

    private static func read(_ reader: inout SnapshotJSONReader, _ bytes: ArraySlice<UInt8>)
        throws(SnapshotJSONReadError) -> AuthState
    {
        var users: [[User]]?
        var codes: [String: OneTimeCode]?
        var sessions: [RefreshSession]?
        var spentTokens: [String: SpentRefreshToken]?
        var revokedTokenIDs: [String: Date]?
        var lockouts: [String: LockoutEntry]?
        var outbox: [UUID: OutboxMail]?
        try reader.beginObject()
        var first = true
        while let name = try reader.nextName(first: first) {
            first = false
            if name.isEqual(to: "users") {
                guard users == nil else { throw reader.fail("duplicate key") }
                users = try readUsers(&reader, bytes)
            } else if name.isEqual(to: "codes") {
                guard codes == nil else { throw reader.fail("duplicate key") }
                codes = try readMap(&reader, OneTimeCode.init(snapshot:))
            } else if name.isEqual(to: "sessions") {
                guard sessions == nil else { throw reader.fail("duplicate key") }
                sessions = try readArray(&reader, RefreshSession.init(snapshot:))
            } else if name.isEqual(to: "spent_tokens") {
                guard spentTokens == nil else { throw reader.fail("duplicate key") }
                spentTokens = try readMap(&reader, SpentRefreshToken.init(snapshot:))
            } else if name.isEqual(to: "revoked_token_ids") {
                guard revokedTokenIDs == nil else { throw reader.fail("duplicate key") }
                revokedTokenIDs = try readMap(&reader) {
                    (reader: inout SnapshotJSONReader) throws(SnapshotJSONReadError) in
                    try reader.readDate()
                }
            } else if name.isEqual(to: "lockouts") {
                guard lockouts == nil else { throw reader.fail("duplicate key") }
                lockouts = try readMap(&reader, LockoutEntry.init(snapshot:))
            } else if name.isEqual(to: "outbox") {
                guard outbox == nil else { throw reader.fail("duplicate key") }
                let mails = try readArray(&reader, OutboxMail.init(snapshot:))
                var byID: [UUID: OutboxMail] = [:]
                byID.reserveCapacity(mails.count)
                for mail in mails {
                    guard byID.updateValue(mail, forKey: mail.id) == nil else { throw reader.fail("duplicate mail id") }
                }
                outbox = byID
            } else {
                throw reader.fail("unknown member")
            }
        }
        try reader.expectEnd()
        guard let users, let codes, let sessions, let spentTokens, let revokedTokenIDs, let lockouts, let outbox else {
            throw reader.fail("a member of the state is missing")
        }
        // As `init(from:)` builds them: in the order of the arrays, a later duplicate replacing an earlier one; the two
        // indexes of the accounts on two cores.
        let userCount = users.reduce(0) { $0 + $1.count }
        let indexes = Mutex<(byID: [UUID: User], byEmail: [String: UUID])>(([:], [:]))
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 {
                var byID: [UUID: User] = [:]
                byID.reserveCapacity(userCount)
                for part in users {
                    for user in part { byID[user.id] = user }
                }
                indexes.withLock { $0.byID = byID }
            } else {
                var byEmail: [String: UUID] = [:]
                byEmail.reserveCapacity(userCount)
                for part in users {
                    for user in part { byEmail[user.emailKey] = user.id }
                }
                indexes.withLock { $0.byEmail = byEmail }
            }
        }
        let (usersByID, userIDsByEmail) = indexes.withLock { $0 }
        var sessionsByID: [UUID: RefreshSession] = [:]
        var sessionIDsByToken: [String: UUID] = [:]
        sessionsByID.reserveCapacity(sessions.count)
        sessionIDsByToken.reserveCapacity(sessions.count)
        for session in sessions {
            sessionsByID[session.id] = session
            sessionIDsByToken[session.tokenDigest] = session.id
        }
        return AuthState(
            users: usersByID, userIDsByEmail: userIDsByEmail, codes: codes, sessions: sessionsByID,
            sessionIDsByToken: sessionIDsByToken, spentTokens: spentTokens, revokedTokenIDs: revokedTokenIDs,
            lockouts: lockouts, outbox: outbox)
    }

    public func writeSnapshot(to writer: inout SnapshotJSONWriter) throws {
        writer.raw(#"{"codes":"#)
        try Self.writeMap(codes, to: &writer) { code, writer in try code.write(to: &writer) }
        writer.raw(#","lockouts":"#)
        try Self.writeMap(lockouts, to: &writer) { entry, writer in try entry.write(to: &writer) }
        writer.raw(#","outbox":"#)
        try Self.writeSorted(outbox.values, by: \.queuedAt, to: &writer) { mail, writer in try mail.write(to: &writer) }
        writer.raw(#","revoked_token_ids":"#)
        try Self.writeMap(revokedTokenIDs, to: &writer) { date, writer in try writer.date(date) }
        writer.raw(#","sessions":"#)
        try Self.writeSorted(sessions.values, by: \.createdAt, to: &writer) { session, writer in
            try session.write(to: &writer)
        }
        writer.raw(#","spent_tokens":"#)
        try Self.writeMap(spentTokens, to: &writer) { token, writer in try token.write(to: &writer) }
        writer.raw(#","users":"#)
        try Self.writeSorted(users.values, by: \.createdAt, to: &writer) { user, writer in try user.write(to: &writer) }
        writer.raw(UInt8(ascii: "}"))
    }

    // MARK: Containers

    /// The accounts, in one or two parts (in order). A long array is read in two halves on two cores: the second
    /// starts at the first `},{"createdAt":` after the middle, which outside a string (and, in valid JSON, it cannot
    /// be inside one: its `"` would end the string) can only be the boundary between two accounts; the first half
    /// must end exactly there, so the two halves read what one pass would, or the whole read fails.
    private static func readUsers(_ reader: inout SnapshotJSONReader, _ bytes: ArraySlice<UInt8>)
        throws(SnapshotJSONReadError) -> [[User]]
    {
        try reader.beginArray()
        let length = reader.remainingCount
        guard length >= 1 << 20, let boundary = reader.find(#"},{"createdAt":"#, from: reader.offset + length / 2)
        else {
            var users: [User] = []
            var first = true
            while try reader.nextElement(first: first) {
                first = false
                users.append(try User(snapshot: &reader))
            }
            return [users]
        }
        let head = reader.position(endingAt: boundary + 1)
        let tail = reader.position(movedTo: boundary + 2)
        let halves = Mutex<
            (
                head: Result<[User], SnapshotJSONReadError>?,
                tail: Result<([User], SnapshotJSONReader.Position), SnapshotJSONReadError>?
            )
        >((nil, nil))
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            bytes.withUnsafeBufferPointer { buffer in
                if part == 0 {
                    var reader = SnapshotJSONReader(buffer, at: head)
                    let result = Result { () throws(SnapshotJSONReadError) in
                        var users: [User] = []
                        while true {
                            users.append(try User(snapshot: &reader))
                            if reader.offset == boundary + 1 { return users }
                            try reader.expectComma()
                        }
                    }
                    halves.withLock { $0.head = result }
                } else {
                    var reader = SnapshotJSONReader(buffer, at: tail)
                    let result = Result { () throws(SnapshotJSONReadError) in
                        var users: [User] = []
                        repeat {
                            users.append(try User(snapshot: &reader))
                        } while try reader.nextElement(first: false)
                        return (users, reader.position)
                    }
                    halves.withLock { $0.tail = result }
                }
            }
        }
        let (headResult, tailResult) = halves.withLock { ($0.head, $0.tail) }
        guard let headResult, let tailResult else { throw reader.fail("a half of the accounts was not read") }
        let headUsers = try headResult.get()
        let (tailUsers, end) = try tailResult.get()
        reader.move(to: end)
        return [headUsers, tailUsers]
    }

    private static func readArray<Element>(
        _ reader: inout SnapshotJSONReader,
        _ element: (inout SnapshotJSONReader) throws(SnapshotJSONReadError) -> Element
    ) throws(SnapshotJSONReadError) -> [Element] {
        try reader.beginArray()
        var elements: [Element] = []
        var first = true
        while try reader.nextElement(first: first) {
            first = false
            elements.append(try element(&reader))
        }
        return elements
    }

    private static func readMap<Value>(
        _ reader: inout SnapshotJSONReader,
        _ value: (inout SnapshotJSONReader) throws(SnapshotJSONReadError) -> Value
    ) throws(SnapshotJSONReadError) -> [String: Value] {
        try reader.beginObject()
        var map: [String: Value] = [:]
        var first = true
        while let key = try reader.nextKey(first: first) {
            first = false
            guard map.updateValue(try value(&reader), forKey: key) == nil else { throw reader.fail("duplicate key") }
        }
        return map
    }

    /// A `[String: Value]` as `JSONEncoder` writes it with sorted keys: by the keys' UTF-8 bytes.
    private static func writeMap<Value>(
        _ map: [String: Value],
        to writer: inout SnapshotJSONWriter,
        _ value: (Value, inout SnapshotJSONWriter) throws -> Void
    ) throws {
        writer.raw(UInt8(ascii: "{"))
        let keys = map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, key) in keys.enumerated() {
            if index > 0 { writer.raw(UInt8(ascii: ",")) }
            writer.string(key)
            writer.raw(UInt8(ascii: ":"))
            try value(map[key]!, &writer)
            try writer.checkpoint()
        }
        writer.raw(UInt8(ascii: "}"))
    }

    /// The values in the order `encode(to:)` writes them: `values.sorted { $0[key] < $1[key] }`, the same sort over
    /// the same sequence of keys, so equal keys come out in the same order too; without copying the values.
    private static func writeSorted<Key, Value>(
        _ values: Dictionary<Key, Value>.Values,
        by date: KeyPath<Value, Date>,
        to writer: inout SnapshotJSONWriter,
        _ write: (Value, inout SnapshotJSONWriter) throws -> Void
    ) throws {
        let indices = Array(values.indices)
        let dates = values.map { $0[keyPath: date] }
        let order = (0..<dates.count).sorted { dates[$0] < dates[$1] }
        writer.raw(UInt8(ascii: "["))
        for (position, index) in order.enumerated() {
            if position > 0 { writer.raw(UInt8(ascii: ",")) }
            try write(values[indices[index]], &writer)
            try writer.checkpoint()
        }
        writer.raw(UInt8(ascii: "]"))
    }
}

// MARK: - Records

extension User {
    fileprivate init(snapshot reader: inout SnapshotJSONReader) throws(SnapshotJSONReadError) {
        var id: UUID?
        var email: String?
        var emailKey: String?
        var name: String??
        var phone: String??
        var passwordHash: String?
        var passwordImported: Bool??
        var emailVerified: Bool?
        var roles: [String]?
        var createdAt: Date?
        var updatedAt: Date?
        var lastLoginAt: Date??
        var lastLoginIP: String??
        var tokensValidAfter: Date??
        var unverifiedUntil: Date??
        var locale: String??
        try reader.beginObject()
        var first = true
        while let key = try reader.nextName(first: first) {
            first = false
            if key.isEqual(to: "id") {
                try once(id, &reader)
                id = try reader.readUUID()
            } else if key.isEqual(to: "email") {
                try once(email, &reader)
                email = try reader.readString()
            } else if key.isEqual(to: "emailKey") {
                try once(emailKey, &reader)
                emailKey = try reader.readString()
            } else if key.isEqual(to: "passwordHash") {
                try once(passwordHash, &reader)
                passwordHash = try reader.readString()
            } else if key.isEqual(to: "emailVerified") {
                try once(emailVerified, &reader)
                emailVerified = try reader.readBool()
            } else if key.isEqual(to: "roles") {
                try once(roles, &reader)
                roles = try reader.readStrings()
            } else if key.isEqual(to: "createdAt") {
                try once(createdAt, &reader)
                createdAt = try reader.readDate()
            } else if key.isEqual(to: "updatedAt") {
                try once(updatedAt, &reader)
                updatedAt = try reader.readDate()
            } else if key.isEqual(to: "name") {
                try once(name, &reader)
                name = .some(try reader.readOptionalString())
            } else if key.isEqual(to: "phone") {
                try once(phone, &reader)
                phone = .some(try reader.readOptionalString())
            } else if key.isEqual(to: "passwordImported") {
                try once(passwordImported, &reader)
                passwordImported = .some(reader.readNull() ? nil : try reader.readBool())
            } else if key.isEqual(to: "lastLoginAt") {
                try once(lastLoginAt, &reader)
                lastLoginAt = .some(try reader.readOptionalDate())
            } else if key.isEqual(to: "lastLoginIP") {
                try once(lastLoginIP, &reader)
                lastLoginIP = .some(try reader.readOptionalString())
            } else if key.isEqual(to: "tokensValidAfter") {
                try once(tokensValidAfter, &reader)
                tokensValidAfter = .some(try reader.readOptionalDate())
            } else if key.isEqual(to: "unverifiedUntil") {
                try once(unverifiedUntil, &reader)
                unverifiedUntil = .some(try reader.readOptionalDate())
            } else if key.isEqual(to: "locale") {
                try once(locale, &reader)
                locale = .some(try reader.readOptionalString())
            } else {
                throw reader.fail("unknown member")
            }
        }
        guard let id, let email, let emailKey, let passwordHash, let emailVerified, let roles, let createdAt,
            let updatedAt
        else { throw reader.fail("an account lacks a required field") }
        self.id = id
        self.email = email
        self.emailKey = emailKey
        self.name = name ?? nil
        self.phone = phone ?? nil
        self.passwordHash = passwordHash
        self.passwordImported = passwordImported ?? nil
        self.emailVerified = emailVerified
        self.roles = roles
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastLoginAt = lastLoginAt ?? nil
        self.lastLoginIP = lastLoginIP ?? nil
        self.tokensValidAfter = tokensValidAfter ?? nil
        self.unverifiedUntil = unverifiedUntil ?? nil
        self.locale = locale ?? nil
    }

    /// The members in sorted order; an absent optional is left out, as the synthesized `encode(to:)` does.
    fileprivate func write(to writer: inout SnapshotJSONWriter) throws {
        writer.raw(#"{"createdAt":"#)
        try writer.date(createdAt)
        writer.raw(#","email":"#)
        writer.string(email)
        writer.raw(#","emailKey":"#)
        writer.string(emailKey)
        writer.raw(#","emailVerified":"#)
        writer.bool(emailVerified)
        writer.raw(#","id":"#)
        writer.uuid(id)
        if let lastLoginAt {
            writer.raw(#","lastLoginAt":"#)
            try writer.date(lastLoginAt)
        }
        if let lastLoginIP {
            writer.raw(#","lastLoginIP":"#)
            writer.string(lastLoginIP)
        }
        if let locale {
            writer.raw(#","locale":"#)
            writer.string(locale)
        }
        if let name {
            writer.raw(#","name":"#)
            writer.string(name)
        }
        writer.raw(#","passwordHash":"#)
        writer.string(passwordHash)
        if let passwordImported {
            writer.raw(#","passwordImported":"#)
            writer.bool(passwordImported)
        }
        if let phone {
            writer.raw(#","phone":"#)
            writer.string(phone)
        }
        writer.raw(#","roles":["#)
        for (index, role) in roles.enumerated() {
            if index > 0 { writer.raw(UInt8(ascii: ",")) }
            writer.string(role)
        }
        writer.raw(UInt8(ascii: "]"))
        if let tokensValidAfter {
            writer.raw(#","tokensValidAfter":"#)
            try writer.date(tokensValidAfter)
        }
        if let unverifiedUntil {
            writer.raw(#","unverifiedUntil":"#)
            try writer.date(unverifiedUntil)
        }
        writer.raw(#","updatedAt":"#)
        try writer.date(updatedAt)
        writer.raw(UInt8(ascii: "}"))
    }
}

extension OneTimeCode {
    fileprivate init(snapshot reader: inout SnapshotJSONReader) throws(SnapshotJSONReadError) {
        var userID: UUID?
        var purpose: CodePurpose?
        var digest: String?
        var issuedAt: Date?
        var expiresAt: Date?
        var failedAttempts: Int?
        try reader.beginObject()
        var first = true
        while let key = try reader.nextName(first: first) {
            first = false
            if key.isEqual(to: "userID") {
                try once(userID, &reader)
                userID = try reader.readUUID()
            } else if key.isEqual(to: "purpose") {
                try once(purpose, &reader)
                guard let value = CodePurpose(rawValue: try reader.readString()) else {
                    throw reader.fail("unknown code purpose")
                }
                purpose = value
            } else if key.isEqual(to: "digest") {
                try once(digest, &reader)
                digest = try reader.readString()
            } else if key.isEqual(to: "issuedAt") {
                try once(issuedAt, &reader)
                issuedAt = try reader.readDate()
            } else if key.isEqual(to: "expiresAt") {
                try once(expiresAt, &reader)
                expiresAt = try reader.readDate()
            } else if key.isEqual(to: "failedAttempts") {
                try once(failedAttempts, &reader)
                failedAttempts = try reader.readInt()
            } else {
                throw reader.fail("unknown member")
            }
        }
        guard let userID, let purpose, let digest, let issuedAt, let expiresAt, let failedAttempts else {
            throw reader.fail("a code lacks a required field")
        }
        self.init(userID: userID, purpose: purpose, digest: digest, issuedAt: issuedAt, expiresAt: expiresAt)
        self.failedAttempts = failedAttempts
    }

    fileprivate func write(to writer: inout SnapshotJSONWriter) throws {
        writer.raw(#"{"digest":"#)
        writer.string(digest)
        writer.raw(#","expiresAt":"#)
        try writer.date(expiresAt)
        writer.raw(#","failedAttempts":"#)
        writer.int(failedAttempts)
        writer.raw(#","issuedAt":"#)
        try writer.date(issuedAt)
        writer.raw(#","purpose":"#)
        writer.string(purpose.rawValue)
        writer.raw(#","userID":"#)
        writer.uuid(userID)
        writer.raw(UInt8(ascii: "}"))
    }
}

extension RefreshSession {
    fileprivate init(snapshot reader: inout SnapshotJSONReader) throws(SnapshotJSONReadError) {
        var id: UUID?
        var userID: UUID?
        var tokenDigest: String?
        var createdAt: Date?
        var lastUsedAt: Date?
        var expiresAt: Date?
        var ip: String??
        var userAgent: String??
        try reader.beginObject()
        var first = true
        while let key = try reader.nextName(first: first) {
            first = false
            if key.isEqual(to: "id") {
                try once(id, &reader)
                id = try reader.readUUID()
            } else if key.isEqual(to: "userID") {
                try once(userID, &reader)
                userID = try reader.readUUID()
            } else if key.isEqual(to: "tokenDigest") {
                try once(tokenDigest, &reader)
                tokenDigest = try reader.readString()
            } else if key.isEqual(to: "createdAt") {
                try once(createdAt, &reader)
                createdAt = try reader.readDate()
            } else if key.isEqual(to: "lastUsedAt") {
                try once(lastUsedAt, &reader)
                lastUsedAt = try reader.readDate()
            } else if key.isEqual(to: "expiresAt") {
                try once(expiresAt, &reader)
                expiresAt = try reader.readDate()
            } else if key.isEqual(to: "ip") {
                try once(ip, &reader)
                ip = .some(try reader.readOptionalString())
            } else if key.isEqual(to: "userAgent") {
                try once(userAgent, &reader)
                userAgent = .some(try reader.readOptionalString())
            } else {
                throw reader.fail("unknown member")
            }
        }
        guard let id, let userID, let tokenDigest, let createdAt, let lastUsedAt, let expiresAt else {
            throw reader.fail("a session lacks a required field")
        }
        self.init(
            id: id, userID: userID, tokenDigest: tokenDigest, createdAt: createdAt, expiresAt: expiresAt,
            ip: ip ?? nil, userAgent: userAgent ?? nil)
        self.lastUsedAt = lastUsedAt
    }

    fileprivate func write(to writer: inout SnapshotJSONWriter) throws {
        writer.raw(#"{"createdAt":"#)
        try writer.date(createdAt)
        writer.raw(#","expiresAt":"#)
        try writer.date(expiresAt)
        writer.raw(#","id":"#)
        writer.uuid(id)
        if let ip {
            writer.raw(#","ip":"#)
            writer.string(ip)
        }
        writer.raw(#","lastUsedAt":"#)
        try writer.date(lastUsedAt)
        writer.raw(#","tokenDigest":"#)
        writer.string(tokenDigest)
        if let userAgent {
            writer.raw(#","userAgent":"#)
            writer.string(userAgent)
        }
        writer.raw(#","userID":"#)
        writer.uuid(userID)
        writer.raw(UInt8(ascii: "}"))
    }
}

extension SpentRefreshToken {
    fileprivate init(snapshot reader: inout SnapshotJSONReader) throws(SnapshotJSONReadError) {
        var sessionID: UUID?
        var userID: UUID?
        var expiresAt: Date?
        try reader.beginObject()
        var first = true
        while let key = try reader.nextName(first: first) {
            first = false
            if key.isEqual(to: "sessionID") {
                try once(sessionID, &reader)
                sessionID = try reader.readUUID()
            } else if key.isEqual(to: "userID") {
                try once(userID, &reader)
                userID = try reader.readUUID()
            } else if key.isEqual(to: "expiresAt") {
                try once(expiresAt, &reader)
                expiresAt = try reader.readDate()
            } else {
                throw reader.fail("unknown member")
            }
        }
        guard let sessionID, let userID, let expiresAt else {
            throw reader.fail("a spent token lacks a required field")
        }
        self.init(sessionID: sessionID, userID: userID, expiresAt: expiresAt)
    }

    fileprivate func write(to writer: inout SnapshotJSONWriter) throws {
        writer.raw(#"{"expiresAt":"#)
        try writer.date(expiresAt)
        writer.raw(#","sessionID":"#)
        writer.uuid(sessionID)
        writer.raw(#","userID":"#)
        writer.uuid(userID)
        writer.raw(UInt8(ascii: "}"))
    }
}

extension LockoutEntry {
    fileprivate init(snapshot reader: inout SnapshotJSONReader) throws(SnapshotJSONReadError) {
        var failures: Int?
        var lastFailureAt: Date?
        var lockedUntil: Date??
        var expiresAt: Date??
        var byAdmin: Bool??
        try reader.beginObject()
        var first = true
        while let key = try reader.nextName(first: first) {
            first = false
            if key.isEqual(to: "failures") {
                try once(failures, &reader)
                failures = try reader.readInt()
            } else if key.isEqual(to: "lastFailureAt") {
                try once(lastFailureAt, &reader)
                lastFailureAt = try reader.readDate()
            } else if key.isEqual(to: "lockedUntil") {
                try once(lockedUntil, &reader)
                lockedUntil = .some(try reader.readOptionalDate())
            } else if key.isEqual(to: "expiresAt") {
                try once(expiresAt, &reader)
                expiresAt = .some(try reader.readOptionalDate())
            } else if key.isEqual(to: "byAdmin") {
                try once(byAdmin, &reader)
                byAdmin = .some(reader.readNull() ? nil : try reader.readBool())
            } else {
                throw reader.fail("unknown member")
            }
        }
        guard let failures, let lastFailureAt else { throw reader.fail("a lockout entry lacks a required field") }
        self.init(
            failures: failures, lastFailureAt: lastFailureAt, lockedUntil: lockedUntil ?? nil,
            expiresAt: expiresAt ?? nil, byAdmin: byAdmin ?? nil)
    }

    fileprivate func write(to writer: inout SnapshotJSONWriter) throws {
        writer.raw(UInt8(ascii: "{"))
        if let byAdmin {
            writer.raw(#""byAdmin":"#)
            writer.bool(byAdmin)
            writer.raw(UInt8(ascii: ","))
        }
        if let expiresAt {
            writer.raw(#""expiresAt":"#)
            try writer.date(expiresAt)
            writer.raw(UInt8(ascii: ","))
        }
        writer.raw(#""failures":"#)
        writer.int(failures)
        writer.raw(#","lastFailureAt":"#)
        try writer.date(lastFailureAt)
        if let lockedUntil {
            writer.raw(#","lockedUntil":"#)
            try writer.date(lockedUntil)
        }
        writer.raw(UInt8(ascii: "}"))
    }
}

extension OutboxMail {
    /// As `init(from:)`: the fields after the first eight may be absent.
    fileprivate init(snapshot reader: inout SnapshotJSONReader) throws(SnapshotJSONReadError) {
        var id: UUID?
        var to: String?
        var subject: String?
        var text: String?
        var html: String??
        var kind: String?
        var code: String??
        var userID: UUID??
        var queuedAt: Date?
        var expiresAt: Date??
        var attempts: Int??
        var nextAttemptAt: Date??
        var lastError: String??
        var outcome: Outcome??
        var retriedAt: Date??
        try reader.beginObject()
        var first = true
        while let key = try reader.nextName(first: first) {
            first = false
            if key.isEqual(to: "id") {
                try once(id, &reader)
                id = try reader.readUUID()
            } else if key.isEqual(to: "to") {
                try once(to, &reader)
                to = try reader.readString()
            } else if key.isEqual(to: "subject") {
                try once(subject, &reader)
                subject = try reader.readString()
            } else if key.isEqual(to: "text") {
                try once(text, &reader)
                text = try reader.readString()
            } else if key.isEqual(to: "html") {
                try once(html, &reader)
                html = .some(try reader.readOptionalString())
            } else if key.isEqual(to: "kind") {
                try once(kind, &reader)
                kind = try reader.readString()
            } else if key.isEqual(to: "code") {
                try once(code, &reader)
                code = .some(try reader.readOptionalString())
            } else if key.isEqual(to: "userID") {
                try once(userID, &reader)
                userID = .some(try reader.readOptionalUUID())
            } else if key.isEqual(to: "queuedAt") {
                try once(queuedAt, &reader)
                queuedAt = try reader.readDate()
            } else if key.isEqual(to: "expiresAt") {
                try once(expiresAt, &reader)
                expiresAt = .some(try reader.readOptionalDate())
            } else if key.isEqual(to: "attempts") {
                try once(attempts, &reader)
                attempts = .some(reader.readNull() ? nil : try reader.readInt())
            } else if key.isEqual(to: "nextAttemptAt") {
                try once(nextAttemptAt, &reader)
                nextAttemptAt = .some(try reader.readOptionalDate())
            } else if key.isEqual(to: "lastError") {
                try once(lastError, &reader)
                lastError = .some(try reader.readOptionalString())
            } else if key.isEqual(to: "outcome") {
                try once(outcome, &reader)
                if reader.readNull() {
                    outcome = .some(nil)
                } else {
                    guard let value = Outcome(rawValue: try reader.readString()) else {
                        throw reader.fail("unknown mail outcome")
                    }
                    outcome = .some(value)
                }
            } else if key.isEqual(to: "retriedAt") {
                try once(retriedAt, &reader)
                retriedAt = .some(try reader.readOptionalDate())
            } else {
                throw reader.fail("unknown member")
            }
        }
        guard let id, let to, let subject, let text, let kind, let queuedAt else {
            throw reader.fail("a mail lacks a required field")
        }
        self.init(
            id: id, to: to, subject: subject, text: text, kind: kind, code: code ?? nil, userID: userID ?? nil,
            queuedAt: queuedAt, expiresAt: expiresAt ?? nil)
        self.html = html ?? nil
        self.attempts = (attempts ?? nil) ?? 0
        self.nextAttemptAt = nextAttemptAt ?? nil
        self.lastError = lastError ?? nil
        self.outcome = outcome ?? nil
        self.retriedAt = retriedAt ?? nil
    }

    /// As `encode(to:)`, members sorted: `attempts` only when above zero, absent optionals left out.
    fileprivate func write(to writer: inout SnapshotJSONWriter) throws {
        writer.raw(UInt8(ascii: "{"))
        if attempts > 0 {
            writer.raw(#""attempts":"#)
            writer.int(attempts)
            writer.raw(UInt8(ascii: ","))
        }
        if let code {
            writer.raw(#""code":"#)
            writer.string(code)
            writer.raw(UInt8(ascii: ","))
        }
        if let expiresAt {
            writer.raw(#""expiresAt":"#)
            try writer.date(expiresAt)
            writer.raw(UInt8(ascii: ","))
        }
        if let html {
            writer.raw(#""html":"#)
            writer.string(html)
            writer.raw(UInt8(ascii: ","))
        }
        writer.raw(#""id":"#)
        writer.uuid(id)
        writer.raw(#","kind":"#)
        writer.string(kind)
        if let lastError {
            writer.raw(#","lastError":"#)
            writer.string(lastError)
        }
        if let nextAttemptAt {
            writer.raw(#","nextAttemptAt":"#)
            try writer.date(nextAttemptAt)
        }
        if let outcome {
            writer.raw(#","outcome":"#)
            writer.string(outcome.rawValue)
        }
        writer.raw(#","queuedAt":"#)
        try writer.date(queuedAt)
        if let retriedAt {
            writer.raw(#","retriedAt":"#)
            try writer.date(retriedAt)
        }
        writer.raw(#","subject":"#)
        writer.string(subject)
        writer.raw(#","text":"#)
        writer.string(text)
        writer.raw(#","to":"#)
        writer.string(to)
        if let userID {
            writer.raw(#","userID":"#)
            writer.uuid(userID)
        }
        writer.raw(UInt8(ascii: "}"))
    }
}

/// Refuses a member seen twice in one object (`JSONDecoder` keeps one of them; which one is its business).
@inline(__always)
private func once<Value>(_ seen: Value?, _ reader: inout SnapshotJSONReader) throws(SnapshotJSONReadError) {
    if seen != nil { throw reader.fail("duplicate key") }
}
