import Foundation
import PorteroFormat

/// One user of `portero import` as the file gives it, checked: `{email, password_hash?, name?, phone?,
/// email_verified?, roles?, created_at?}`. A field that is absent (or null) is "not given".
struct ImportedUser: Sendable, Equatable {
    var email: Email
    /// A hash ``PasswordHasher`` can verify, as the file gives it (a Keycloak credential turned into its string).
    var passwordHash: String?
    var name: String?
    var phone: String?
    var emailVerified: Bool?
    var roles: [String]?
    var createdAt: Date?

    static let fields: Set<String> = [
        "email", "password_hash", "name", "phone", "email_verified", "roles", "created_at",
    ]

    /// Checks one item; the error's reason names the field and never holds the hash.
    init(parsing value: JSONValue, now: Date) throws(ImportProblem) {
        guard case .object(let members) = value else { throw ImportProblem("must be a JSON object") }
        if let unknown = members.keys.filter({ !Self.fields.contains($0) }).sorted().first {
            throw ImportProblem(
                "\(unknown): unknown field (fields: email, password_hash, name, phone, "
                    + "email_verified, roles, created_at)")
        }
        guard case .string(let rawEmail) = members["email"] ?? .null else {
            throw ImportProblem("email: is required (a string)")
        }
        do {
            email = try Email(validating: rawEmail)
        } catch {
            throw ImportProblem("email: \(error.reason)")
        }
        passwordHash = try Self.hash(members["password_hash"] ?? .null)
        let name = try Self.string(members["name"], "name")
        let phone = try Self.string(members["phone"], "phone")
        let profile = ProfileFields.validate(name: name, phone: phone)
        if let problem = profile.problems.sorted(by: { $0.key < $1.key }).first {
            throw ImportProblem("\(problem.key): \(problem.value)")
        }
        self.name = profile.fields.name
        self.phone = profile.fields.phone
        switch members["email_verified"] ?? .null {
        case .null: emailVerified = nil
        case .bool(let verified): emailVerified = verified
        default: throw ImportProblem("email_verified: must be true or false")
        }
        switch members["roles"] ?? .null {
        case .null: roles = nil
        case .array(let items):
            var given: [String] = []
            for item in items {
                guard case .string(let role) = item else { throw ImportProblem("roles: must be an array of strings") }
                given.append(role)
            }
            do {
                roles = try AdminService.validRoles(given)
            } catch {
                guard case .fields(let fields) = error.extra, let reason = fields["roles"] else {
                    throw ImportProblem("roles: are not valid")
                }
                throw ImportProblem("roles: " + reason)
            }
        default: throw ImportProblem("roles: must be an array of strings")
        }
        guard let created = try Self.string(members["created_at"], "created_at") else {
            createdAt = nil
            return
        }
        guard let date = Self.date(created) else {
            throw ImportProblem("created_at: must be an RFC 3339 time such as 2024-01-15T10:30:00Z")
        }
        guard date <= now else { throw ImportProblem("created_at: must not be in the future") }
        createdAt = date
    }

    private static func string(_ value: JSONValue?, _ field: String) throws(ImportProblem) -> String? {
        switch value ?? .null {
        case .null: return nil
        case .string(let text):
            guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw ImportProblem("\(field): must not contain control characters")
            }
            return text
        default: throw ImportProblem("\(field): must be a string")
        }
    }

    /// A hash string, a Django `argon2$argon2id$…` (the PHC string after `argon2`), or a Keycloak credential.
    private static func hash(_ value: JSONValue) throws(ImportProblem) -> String? {
        let hash: String
        switch value {
        case .null: return nil
        case .string(let text) where text.hasPrefix("argon2$argon2id$"): hash = String(text.dropFirst("argon2".count))
        case .string(let text): hash = text
        case .object: hash = try KeycloakCredential.hashString(value)
        default: throw ImportProblem("password_hash: must be a string or a Keycloak credential object")
        }
        guard PasswordHasher.isSupportedHash(hash) else {
            throw ImportProblem(
                "password_hash: unknown format or costs out of range (bcrypt, argon2id, werkzeug pbkdf2/scrypt, "
                    + "Django pbkdf2_sha256/pbkdf2_sha1/scrypt/argon2, Keycloak pbkdf2-sha512/pbkdf2-sha256/pbkdf2)")
        }
        return hash
    }

    /// `2024-01-15T10:30:00Z`, with a fraction (1 to 9 digits) and `Z` or a numeric offset (`+02:00`) as the source
    /// wrote it.
    private static func date(_ text: String) -> Date? {
        if let timestamp = UTCTimestamp(parsing: text) { return timestamp.date }
        let bytes = Array(text.utf8)
        guard bytes.count > 6 else { return nil }
        let offset = bytes.suffix(6).map { $0 }
        guard offset[0] == UInt8(ascii: "+") || offset[0] == UInt8(ascii: "-"), offset[3] == UInt8(ascii: ":"),
            let hours = Int(String(decoding: offset[1...2], as: UTF8.self)),
            let minutes = Int(String(decoding: offset[4...5], as: UTF8.self)),
            offset[1...2].allSatisfy({ (0x30...0x39).contains($0) }),
            offset[4...5].allSatisfy({ (0x30...0x39).contains($0) }), hours < 24, minutes < 60,
            let local = UTCTimestamp(parsing: String(decoding: bytes.dropLast(6), as: UTF8.self) + "Z")
        else { return nil }
        let seconds = TimeInterval((hours * 60 + minutes) * 60)
        return local.date.addingTimeInterval(offset[0] == UInt8(ascii: "+") ? -seconds : seconds)
    }

    /// The account an import creates.
    func newUser(now: Date) -> User {
        var user = User(
            id: UUID(), email: email, name: name.flatMap { $0.isEmpty ? nil : $0 },
            phone: phone.flatMap { $0.isEmpty ? nil : $0 }, passwordHash: passwordHash ?? PasswordHasher.noPassword,
            roles: roles ?? ["user"], createdAt: createdAt ?? now)
        user.emailVerified = emailVerified ?? false
        user.passwordImported = passwordHash != nil ? true : nil
        user.updatedAt = now
        return user
    }

    /// What an import changes on an existing account (see `AdminService.importUsers`); empty when nothing.
    func changes(to user: User, now: Date) -> [AuthRecord] {
        var update = AuthRecord.UserUpdate(userID: user.id, at: now)
        var changed = false
        if let name, name != (user.name ?? "") {
            update.name = name
            changed = true
        }
        if let phone, phone != (user.phone ?? "") {
            update.phone = phone
            changed = true
        }
        if let roles, roles != user.roles {
            update.roles = roles
            changed = true
        }
        if emailVerified == true, !user.emailVerified {
            update.emailVerified = true
            changed = true
        }
        var records: [AuthRecord] = changed ? [.userUpdated(update)] : []
        if let passwordHash, user.passwordImported == true, passwordHash != user.passwordHash {
            records.append(
                .userPasswordChanged(
                    .init(userID: user.id, at: now, passwordHash: passwordHash, revokeTokens: false, imported: true)))
        }
        return records
    }
}

/// Why one item of an import was skipped: a sentence naming the field, safe to show and to log.
public struct ImportProblem: Error, Sendable, Equatable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Keycloak's password credential as `kc.sh export` writes it, turned into the string form Portero keeps:
/// `{"type": "password", "secretData": "{\"value\":\"<base64>\",\"salt\":\"<base64>\"}", "credentialData":
/// "{\"hashIterations\":210000,\"algorithm\":\"pbkdf2-sha512\"}"}` (secretData and credentialData as the export's
/// JSON strings, or as objects) becomes `pbkdf2-sha512$210000$<salt base64>$<value base64>`.
enum KeycloakCredential {
    static func hashString(_ value: JSONValue) throws(ImportProblem) -> String {
        guard case .object(let credential) = value else { throw problem("must be an object") }
        if let type = credential["type"], type != .string("password") {
            throw problem("type must be \"password\"")
        }
        let secret = try object(credential["secretData"], "secretData")
        let data = try object(credential["credentialData"], "credentialData")
        guard case .string(let hash) = secret["value"] ?? .null, case .string(let salt) = secret["salt"] ?? .null
        else { throw problem("secretData needs value and salt (base64)") }
        guard case .number(let iterations) = data["hashIterations"] ?? .null, iterations >= 1,
            iterations <= 1e9, iterations == iterations.rounded()
        else { throw problem("credentialData needs hashIterations (a whole number)") }
        guard case .string(let algorithm) = data["algorithm"] ?? .null,
            ["pbkdf2-sha512", "pbkdf2-sha256", "pbkdf2"].contains(algorithm)
        else { throw problem("credentialData.algorithm must be pbkdf2-sha512, pbkdf2-sha256 or pbkdf2") }
        return "\(algorithm)$\(Int(iterations))$\(salt)$\(hash)"
    }

    /// A member that is an object, or a string holding one (as the export writes them).
    private static func object(_ value: JSONValue?, _ name: String) throws(ImportProblem) -> [String: JSONValue] {
        switch value ?? .null {
        case .object(let members):
            return members
        case .string(let text):
            guard case .object(let members) = try? StrictJSONParser().parse(Array(text.utf8)) else {
                throw problem("\(name) must be a JSON object or a string holding one")
            }
            return members
        default:
            throw problem("\(name) must be a JSON object or a string holding one")
        }
    }

    private static func problem(_ reason: String) -> ImportProblem {
        ImportProblem("password_hash: Keycloak credential: " + reason)
    }
}
