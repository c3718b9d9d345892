import Foundation
import Hummingbird
import NIOCore
import NIOPosix

/// The user object of Portero's `GET /profile` answer (SPEC §3), encoded by Hummingbird's default JSON encoder on
/// every request: what a minimal handler costs on this framework, without token checks or a store.
struct User: Codable {
    var id: UUID
    var email: String
    var name: String?
    var phone: String?
    var emailVerified: Bool
    var roles: [String]
    var createdAt: Date
    var updatedAt: Date
    var lastLoginAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, email, name, phone, roles
        case emailVerified = "email_verified"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastLoginAt = "last_login_at"
    }

    /// As Portero writes it: a lowercase id, and absent values as `null`.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(phone, forKey: .phone)
        try container.encode(emailVerified, forKey: .emailVerified)
        try container.encode(roles, forKey: .roles)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(lastLoginAt, forKey: .lastLoginAt)
    }
}

struct ProfileAnswer: ResponseEncodable {
    var user: User
}

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 5599 : 5599
// `--nio-executor`: Swift concurrency's jobs on NIO's event loops, as `portero serve` runs them.
if arguments.contains("--nio-executor") {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
let user = User(
    id: UUID(), email: "bench@example.com", name: "Bench User", phone: nil, emailVerified: true,
    roles: ["user"], createdAt: Date(), updatedAt: Date(), lastLoginAt: Date())

let router = Router()
router.get("/api/v1/auth/profile") { _, _ in ProfileAnswer(user: user) }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
