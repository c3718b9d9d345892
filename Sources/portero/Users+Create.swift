import ArgumentParser
import Foundation
import Glibc

extension Users {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user with a password read from standard input, or invite one by mail.",
            discussion: """
                The password meets the same rules as at registration. The account is unverified unless --verified \
                is given (its owner then verifies with a code from /resend-verification); roles default to user. \
                An address that already has an account is refused. With --invite instead of a password, the user \
                gets an invitation mail with a code that lasts registration.unverified_ttl (7 days): POST \
                /password/reset with it sets the password and verifies the address.
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The email address.") var email: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (its first line).")
        var passwordStdin = false
        @Flag(help: "Mark the address verified.") var verified = false
        @Flag(help: "No password: mail an invitation with a code that sets one.") var invite = false
        @Option(help: "Roles, comma-separated (default: user).") var roles: String?
        @Option(help: "The user's name.") var name: String?
        @Option(help: "The user's phone number.") var phone: String?

        func validate() throws {
            guard passwordStdin != invite else {
                throw ValidationError(
                    invite
                        ? "--invite mails a code to choose the password: leave out --password-stdin"
                        : "give the password on standard input with --password-stdin, or --invite")
            }
            if invite && verified { throw ValidationError("--invite: accepting the invitation verifies the address") }
        }

        func run() async throws {
            var body: [String: Any] = ["email": email]
            if invite {
                body["invite"] = true
            } else {
                if isatty(STDIN_FILENO) == 1 { FileHandle.standardError.write(Data("Password: ".utf8)) }
                guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                    throw CommandSupport.fail("no password on standard input")
                }
                body["password"] = password
                body["email_verified"] = verified
            }
            if let roles {
                body["roles"] = roles.split(separator: ",", omittingEmptySubsequences: true).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
            }
            if let name { body["name"] = name }
            if let phone { body["phone"] = phone }
            let answer = try await options.client().call("POST", "/admin/v1/users", json: body)
            Users.report(answer, json: options.json) {
                invite ? "invited \($0): an invitation was mailed" : "created \($0)"
            }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Mail a user a password-reset code, as a forgotten-password request would.",
            discussion: "The current password keeps working until the code is used (POST /password/reset).")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address.") var user: String

        func run() async throws {
            let answer = try await options.client().call(
                "POST", "/admin/v1/users/\(AdminClient.segment(user))/reset-password")
            Users.report(answer, json: options.json) { "reset code mailed to \($0)" }
        }
    }
}
