import ArgumentParser
import Foundation
import Logging
import PorteroServer
import Systemd

/// `portero serve`: the daemon in the foreground, as the systemd unit runs it.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon in the foreground.",
        discussion: """
            Settings come from built-in defaults < the config file < PORTERO_* environment variables < these \
            flags. The HS256 secret is read from PORTERO_JWT_SECRET, the systemd credential jwt-secret, or a key \
            generated once into <data_dir>/keys/; it has no flag.
            """
    )

    @OptionGroup var flags: ConfigurationFlags

    func run() async throws {
        let configuration = try await CommandSupport.loadConfiguration(flags)
        let logger = CommandSupport.bootstrapLogging(configuration)
        do {
            try DataDirectoryOwner.refuseForeign(configuration.dataDirectory)
            try await PorteroDaemon(configuration: configuration, logger: logger).run()
        } catch let error as ConfigurationError {
            // A file a key names (tls.certificate, tls.key) that does not load: like any configuration error.
            logger.critical("portero stopped", metadata: ["error": .string(error.message)])
            CommandSupport.printError("configuration: \(error.message)")
            throw ExitCode(78)
        } catch {
            logger.critical("portero stopped", metadata: ["error": .string(String(describing: error))])
            throw CommandSupport.fail(String(describing: error))
        }
    }
}
