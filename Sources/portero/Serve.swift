import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
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
        // Swift concurrency's jobs run on NIO's event loops rather than on a second pool of threads, so a request's
        // handler runs where its connection's I/O does, without a thread switch each way (about a fifth more
        // `/profile` answers per second in `make bench-http`). Nothing in the daemon blocks a thread in async code:
        // password hashing has its own threads, and file writes and fsyncs run on dispatch queues.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let configuration = try await CommandSupport.loadConfiguration(flags)
        let logger = CommandSupport.bootstrapLogging(configuration)
        do {
            // As root on a directory another user owns: every file the daemon made would be root's (refused).
            try DataDirectoryOwner.refuseForeign(configuration.dataDirectory)
            try DataDirectoryOwnership.check(directory: configuration.dataDirectory)
        } catch {
            // One line, in the journal under systemd (where `systemctl status` shows it) or on stderr, and in
            // STATUS=; exit 77, which the packaged unit does not restart: every restart would fail the same way.
            let problem = String(describing: error)
            logger.critical(
                "\(problem)",
                metadata: ["event": "data_dir.foreign_owner", "data_dir": .string(configuration.dataDirectory)]
            )
            _ = Notifier().status("stopped: " + problem)
            throw ExitCode(DataDirectoryOwnership.exitStatus)
        }
        do {
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
