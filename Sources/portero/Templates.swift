import ArgumentParser
import PorteroServer

/// `portero templates list|show`: the built-in templates, to copy into `mail.templates` and change.
struct Templates: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the built-in mail and sign-in page templates.",
        discussion: """
            A file of the same name in mail.templates (default /etc/portero/templates) replaces a built-in one; \
            `systemctl reload portero` reads them again. Example: portero templates show verify_email.es.txt.mustache \
            > /etc/portero/templates/verify_email.es.txt.mustache
            """,
        subcommands: [List.self, Show.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name every built-in template file.")

        func run() {
            for name in BuiltInTemplates.files.keys.sorted() { print(name) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one built-in template file.")

        @Argument(help: "The file name, as `portero templates list` prints it.")
        var name: String

        func validate() throws {
            guard BuiltInTemplates.files[name] != nil else {
                throw ValidationError("no built-in template \(name); see portero templates list")
            }
        }

        func run() {
            print(BuiltInTemplates.files[name] ?? "", terminator: "")
        }
    }
}
