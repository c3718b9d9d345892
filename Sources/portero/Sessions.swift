import ArgumentParser
import Foundation

/// `portero sessions …`: refresh sessions, through the admin API on the Unix socket.
struct Sessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and revoke users' sessions (admin API).",
        subcommands: [List.self, Revoke.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List live sessions, of one user or of all, oldest first, a page at a time.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address; none: every user's.") var user: String?
        @Option(help: "Sessions per page (1-500).") var limit: Int = 50
        @Option(help: "Where to start: the cursor the page before printed.") var cursor: String?

        func run() async throws {
            let path =
                (user.map { "/admin/v1/users/\(AdminClient.segment($0))/sessions" } ?? "/admin/v1/sessions")
                + AdminClient.query([("limit", String(limit)), ("cursor", cursor)])
            let answer = try await options.client().call("GET", path)
            if options.json { return Table.printJSON(answer) }
            let sessions = answer.json?["sessions"] as? [[String: Any]] ?? []
            print(
                Table.render(
                    ["ID", "EMAIL", "CREATED", "LAST USED", "EXPIRES", "IP", "USER AGENT"],
                    sessions.map { session in
                        ["id", "email", "created_at", "last_used_at", "expires_at", "ip", "user_agent"].map {
                            Table.cell(session[$0])
                        }
                    }))
            if let next = answer.json?["next_cursor"] as? String {
                let who = user.map { " \($0)" } ?? ""
                print("more sessions: portero sessions list\(who) --limit \(limit) --cursor \(next)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke every session of a user, or one session by --id; their access tokens stop at once.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address: revoke all of their sessions.") var user: String?
        @Option(name: .customLong("id"), help: "Revoke only this session.") var id: String?

        func validate() throws {
            guard (user == nil) != (id == nil) else {
                throw ValidationError("give either a USER (all their sessions) or --id SESSION")
            }
        }

        func run() async throws {
            let client = try await options.client()
            if let id {
                let answer = try client.call("DELETE", "/admin/v1/sessions/" + AdminClient.segment(id))
                if options.json { return Table.printJSON(answer) }
                print("revoked session \(id)")
            } else if let user {
                let answer = try client.call("DELETE", "/admin/v1/users/\(AdminClient.segment(user))/sessions")
                if options.json { return Table.printJSON(answer) }
                print("revoked \(Table.cell(answer.json?["revoked"])) session(s) of \(user)")
            }
        }
    }
}
