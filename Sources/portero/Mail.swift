import ArgumentParser
import Foundation

/// `portero mail …`: the outbox, through the admin API on the Unix socket. Never shows a message's body or code.
struct Mail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the outbox and send a message again (admin API).",
        subcommands: [List.self, Retry.self]
    )

    static let columns = [
        ("ID", "id"), ("KIND", "kind"), ("TO", "to"), ("STATE", "state"), ("ATTEMPTS", "attempts"),
        ("NEXT ATTEMPT", "next_attempt_at"), ("LAST ERROR", "last_error"),
    ]

    static func row(_ mail: [String: Any]) -> [String] {
        columns.map { Table.cell(mail[$0.1]) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List queued, retrying and dead mail (dead mail stays until the next snapshot).")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let answer = try await options.client().call("GET", "/admin/v1/mail")
            if options.json { return Table.printJSON(answer) }
            let mail = answer.json?["mail"] as? [[String: Any]] ?? []
            print(Table.render(Mail.columns.map { $0.0 }, mail.map(Mail.row)))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a retrying or dead message again now; refused once its code has expired.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "The message's id (from `portero mail list`).") var id: String

        func validate() throws {
            guard UUID(uuidString: id) != nil else { throw ValidationError("ID must be a message id (a UUID)") }
        }

        func run() async throws {
            let answer = try await options.client().call(
                "POST", "/admin/v1/mail/\(AdminClient.segment(id))/retry")
            if options.json { return Table.printJSON(answer) }
            let mail = answer.json?["mail"] as? [String: Any] ?? [:]
            print("queued \(Table.cell(mail["kind"])) mail \(id) to \(Table.cell(mail["to"])) again")
        }
    }
}
