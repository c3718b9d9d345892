import Foundation
import Hummingbird
import PorteroCore

/// The admin API's outbox (`portero mail list|retry`): what is queued, retrying or dead, and queueing a message
/// again. Never the body or the code of a message.
extension AdminController {
    func addMailRoutes(to routes: RouteCollection<AppRequestContext>) {
        routes.get("mail") { _, _ in try JSONResponse.make(MailListResponse(mail: await admin.mail().map(MailDTO.init)))
        }
        routes.post("mail/:id/retry") { _, context in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                throw PorteroError(.notFound, "No such message in the outbox.")
            }
            let mail = try await admin.retryMail(id: id, peer: try await peer(context))
            return try JSONResponse.make(MailResponse(mail: MailDTO(mail)))
        }
    }

    struct MailListResponse: Encodable { let mail: [MailDTO] }
    struct MailResponse: Encodable { let mail: MailDTO }

    /// `{id, kind, to, user_id, state, attempts, queued_at, next_attempt_at, expires_at, last_error}`.
    struct MailDTO: Encodable {
        let mail: AdminMail

        init(_ mail: AdminMail) { self.mail = mail }

        enum CodingKeys: String, CodingKey {
            case id, kind, to, userId, state, attempts, queuedAt, nextAttemptAt, expiresAt, lastError
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(mail.id.uuidString.lowercased(), forKey: .id)
            try container.encode(mail.kind, forKey: .kind)
            try container.encode(mail.to, forKey: .to)
            try container.encode(mail.userID?.uuidString.lowercased(), forKey: .userId)
            try container.encode(mail.state.rawValue, forKey: .state)
            try container.encode(mail.attempts, forKey: .attempts)
            try container.encode(mail.queuedAt, forKey: .queuedAt)
            try container.encode(mail.nextAttemptAt, forKey: .nextAttemptAt)
            try container.encode(mail.expiresAt, forKey: .expiresAt)
            try container.encode(mail.lastError, forKey: .lastError)
        }
    }
}
