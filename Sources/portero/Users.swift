import ArgumentParser
import Foundation
import Glibc

/// `portero users …`: the accounts, through the admin API on the Unix socket.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, create, inspect, verify, lock, unlock, give roles to, reset and delete users (admin API).",
        discussion: """
            Talks to the running daemon over its Unix socket; allowed for root, the daemon's user and members \
            of admin_group. USER is a user id or an email address.
            """,
        subcommands: [
            List.self, Show.self, Create.self, Verify.self, Lock.self, Unlock.self, SetRoles.self,
            ResetPassword.self, Delete.self,
        ]
    )

    static let columns = ["EMAIL", "VERIFIED", "LOCKED", "ROLES", "SESSIONS", "CREATED", "LAST LOGIN", "ID"]

    static func row(_ user: [String: Any]) -> [String] {
        [
            Table.cell(user["email"]), Table.yesNo(user["email_verified"]), locked(user), Table.cell(user["roles"]),
            Table.cell(user["sessions"]), Table.cell(user["created_at"]), Table.cell(user["last_login_at"]),
            Table.cell(user["id"]),
        ]
    }

    static func locked(_ user: [String: Any]) -> String {
        guard (user["locked"] as? Bool) == true else { return "no" }
        if (user["locked_by_admin"] as? Bool) == true { return "by admin" }
        return "until " + Table.cell(user["locked_until"])
    }

    /// Prints one user's answer: its JSON, or a line saying what happened.
    static func report(_ answer: AdminClient.Answer, json: Bool, _ line: (String) -> String) {
        if json { return Table.printJSON(answer) }
        let user = answer.json?["user"] as? [String: Any] ?? [:]
        print(line(Table.cell(user["email"])))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users, oldest first, a page at a time.")

        @OptionGroup var options: AdminOptions
        @Option(help: "Only addresses starting with this.") var email: String?
        @Option(help: "Only users with this role.") var role: String?
        @Option(help: "Only verified (true) or unverified (false) users.") var verified: Bool?
        @Option(help: "Only locked (true) or unlocked (false) users.") var locked: Bool?
        @Option(help: "Users per page (1-500).") var limit: Int = 50
        @Option(help: "Where to start: the cursor the page before printed.") var cursor: String?

        func run() async throws {
            let client = try await options.client()
            let path =
                "/admin/v1/users"
                + AdminClient.query([
                    ("email", email), ("role", role), ("verified", verified.map(String.init)),
                    ("locked", locked.map(String.init)), ("limit", String(limit)), ("cursor", cursor),
                ])
            let answer = try client.call("GET", path)
            if options.json { return Table.printJSON(answer) }
            let users = answer.json?["users"] as? [[String: Any]] ?? []
            print(Table.render(Users.columns, users.map(Users.row)))
            if let next = answer.json?["next_cursor"] as? String {
                print("more users: portero users list --cursor \(next)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address.") var user: String

        func run() async throws {
            let answer = try await options.client().call("GET", "/admin/v1/users/" + AdminClient.segment(user))
            if options.json { return Table.printJSON(answer) }
            let user = answer.json?["user"] as? [String: Any] ?? [:]
            let fields: [(String, String)] = [
                ("id", Table.cell(user["id"])), ("email", Table.cell(user["email"])),
                ("name", Table.cell(user["name"])), ("phone", Table.cell(user["phone"])),
                ("verified", Table.yesNo(user["email_verified"])), ("locked", Users.locked(user)),
                ("roles", Table.cell(user["roles"])), ("sessions", Table.cell(user["sessions"])),
                ("created", Table.cell(user["created_at"])), ("updated", Table.cell(user["updated_at"])),
                ("last login", Table.cell(user["last_login_at"])), ("last login ip", Table.cell(user["last_login_ip"])),
            ]
            for (name, value) in fields { print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + value) }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a user's email address verified.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address.") var user: String

        func run() async throws {
            let answer = try await options.client().call(
                "POST", "/admin/v1/users/\(AdminClient.segment(user))/verify")
            Users.report(answer, json: options.json) { "verified \($0)" }
        }
    }

    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lock a user until unlocked; their sessions and tokens are revoked at once.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address.") var user: String

        func run() async throws {
            let answer = try await options.client().call("POST", "/admin/v1/users/\(AdminClient.segment(user))/lock")
            Users.report(answer, json: options.json) { "locked \($0); its sessions were revoked" }
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unlock a user: an admin's lock or one of failed logins.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address.") var user: String

        func run() async throws {
            let answer = try await options.client().call(
                "POST", "/admin/v1/users/\(AdminClient.segment(user))/unlock")
            Users.report(answer, json: options.json) { "unlocked \($0)" }
        }
    }

    struct SetRoles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-roles",
            abstract: "Replace a user's roles (none given: no roles).",
            discussion: "Access tokens already issued keep their roles until they expire (access_ttl).")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address.") var user: String
        @Argument(help: "The roles, e.g. user admin.") var roles: [String] = []

        func run() async throws {
            let answer = try await options.client().call(
                "PUT", "/admin/v1/users/\(AdminClient.segment(user))/roles", json: ["roles": roles])
            let given = (answer.json?["user"] as? [String: Any])?["roles"]
            Users.report(answer, json: options.json) { "roles of \($0): \(Table.cell(given))" }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user with all their sessions and codes; the address can register again.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "User id or email address.") var user: String
        @Flag(name: .customLong("yes"), help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            let client = try await options.client()
            let path = "/admin/v1/users/" + AdminClient.segment(user)
            if !yes {
                let shown = try client.call("GET", path)
                let found = shown.json?["user"] as? [String: Any] ?? [:]
                guard isatty(STDIN_FILENO) == 1 else {
                    throw CommandSupport.fail("refusing to delete \(user) without --yes (no terminal to ask on)")
                }
                FileHandle.standardError.write(
                    Data(
                        "Delete \(Table.cell(found["email"])) (\(Table.cell(found["id"]))) with all sessions? [y/N] "
                            .utf8))
                let reply = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
                guard reply == "y" || reply == "yes" else { throw CommandSupport.fail("not deleted") }
            }
            _ = try client.call("DELETE", path)
            if options.json { print("{\"deleted\":true}") } else { print("deleted \(user)") }
        }
    }
}
