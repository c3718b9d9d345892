import ArgumentParser

@main
struct Portero: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portero",
        abstract: "Self-hosted authentication daemon: one binary, one systemd unit.",
        version: PorteroVersion.string,
        subcommands: [
            Serve.self, Check.self, Users.self, Sessions.self, Mail.self, Snapshot.self, Backup.self, Import.self,
            Keys.self, Templates.self, Version.self,
        ]
    )
}

enum PorteroVersion {
    static let string = "0.1.0"
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print version and build information.")

    func run() {
        #if DEBUG
            let build = "debug"
        #else
            let build = "release"
        #endif
        print("portero \(PorteroVersion.string) (\(build) build, store format 1)")
    }
}
