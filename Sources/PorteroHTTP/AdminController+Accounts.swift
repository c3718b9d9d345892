import Hummingbird
import PorteroCore

extension AdminController {
    /// POST /users (an account made by an admin) and POST /users/{user}/reset-password (a reset code mailed).
    func addAccountRoutes(to routes: RouteCollection<AppRequestContext>) {
        routes.post("users") { request, context in try await createUser(request, context) }
        routes.post("users/:user/reset-password") { _, context in
            try userAnswer(await auth.startPasswordReset(try reference(context), peer: try await peer(context)))
        }
    }

    /// `{email, password, name?, phone?, email_verified?, roles?}` → 201 `{user}`; the password meets the same
    /// policy as at registration; 409 `user_exists` when the address has an account. `{email, invite: true, …}`
    /// instead of a password: an invitation mail with a code that sets the password at `/password/reset`.
    func createUser(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        let rawPassword = body.string("password", required: false)
        let name = body.string("name", required: false)
        let phone = body.string("phone", required: false)
        var problems: [String: String] = [:]
        var verified = false
        switch body.members["email_verified"] ?? .null {
        case .null: break
        case .bool(let value): verified = value
        default: problems["email_verified"] = "must be true or false"
        }
        var invite = false
        switch body.members["invite"] ?? .null {
        case .null: break
        case .bool(let value): invite = value
        default: problems["invite"] = "must be true or false"
        }
        var roles: [String]?
        switch body.members["roles"] ?? .null {
        case .null: break
        case .array(let items):
            roles = items.compactMap { if case .string(let role) = $0 { role } else { nil } }
            if roles?.count != items.count { problems["roles"] = "must be an array of strings" }
        default: problems["roles"] = "must be an array of strings"
        }
        let profile = ProfileFields.validate(name: name, phone: phone)
        problems.merge(profile.problems) { $1 }
        var password: NewPassword?
        if let rawPassword {
            do {
                password = try auth.newPassword(rawPassword)
            } catch {
                problems["password"] = error.reason
            }
        }
        if invite && rawPassword != nil { problems["password"] = "must be absent with invite" }
        if invite && verified { problems["email_verified"] = "must be absent with invite: accepting verifies" }
        for (field, reason) in problems { body.problem(field, reason) }
        try body.finish()
        guard let email, password != nil || invite else {
            throw PorteroError.validation(["password": "is required (or invite: true)"])
        }
        let user = try await auth.createUser(
            email: email, password: password, profile: profile.fields, verified: verified, roles: roles,
            peer: try await peer(context))
        var response = try userAnswer(user)
        response.status = .created
        return response
    }
}
