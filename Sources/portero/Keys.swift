import ArgumentParser
import Foundation
import PorteroServer

/// `portero keys …`: the JWT signing keys in `<data_dir>/keys/`.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the JWT signing keys.",
        subcommands: [Rotate.self]
    )

    /// `portero keys rotate`.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new signing key; older keys keep verifying until their tokens expire.",
            discussion: """
                Writes a new key of jwt.algorithm into <data_dir>/keys/, deletes keys whose tokens have all \
                expired, and sends SIGHUP to the daemon holding the data directory so it signs with the new key \
                (the daemon need not run). An HS256 secret given as PORTERO_JWT_SECRET or as the systemd \
                credential jwt-secret is not Portero's to rotate: change it there and reload.
                """
        )

        @OptionGroup var flags: ConfigurationFlags

        func run() async throws {
            let configuration = try await CommandSupport.loadConfiguration(flags)
            let outcome: KeyRotation.Outcome
            do {
                try DataDirectoryOwner.adopt(
                    configuration.dataDirectory,
                    command: "portero keys rotate --data-dir \(configuration.dataDirectory)")
                outcome = try KeyRotation.rotate(
                    configuration: configuration, environment: ProcessInfo.processInfo.environment)
            } catch {
                throw CommandSupport.fail("keys rotate: \(error)")
            }
            print("new \(outcome.algorithm) signing key \(outcome.kid) in \(outcome.keysDirectory)")
            if !outcome.verifying.isEmpty {
                print("still verifying until their tokens expire: \(outcome.verifying.joined(separator: ", "))")
            }
            if !outcome.removed.isEmpty {
                print("removed expired keys: \(outcome.removed.joined(separator: ", "))")
            }
            switch KeyRotation.notifyDaemon(dataDirectory: configuration.dataDirectory) {
            case .signalled(let pid):
                print("sent SIGHUP to the daemon (pid \(pid)); it signs with the new key once reloaded")
            case .notRunning:
                print("no daemon holds \(configuration.dataDirectory); it will sign with the new key when it starts")
            case .cannotSignal(let pid, let reason):
                throw CommandSupport.fail(
                    "keys rotate: the key is written but the daemon (pid \(pid)) could not be signalled (\(reason)); "
                        + "run `systemctl reload portero`")
            }
        }
    }
}
