import ArgumentParser
import Foundation

/// `portero snapshot`: ask the running daemon for a snapshot now, through the admin API.
struct Snapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the running daemon to write a snapshot now (admin API).",
        discussion: """
            The daemon writes snapshot-<seq>.json into its data directory the durable way and removes the log \
            segments it covers, as its own snapshot triggers do.
            """
    )

    @OptionGroup var options: AdminOptions

    func run() async throws {
        let answer = try await options.client().call("POST", "/admin/v1/snapshot")
        if options.json { return Table.printJSON(answer) }
        print("snapshot written; it covers the log up to record \(Table.cell(answer.json?["seq"]))")
    }
}
