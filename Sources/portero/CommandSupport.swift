import ArgumentParser
import Foundation
import Logging
import PorteroServer
import Systemd

/// What several commands share: loading settings and saying errors in one line.
enum CommandSupport {
    /// Loads the configuration or exits with status 78 (EX_CONFIG) and one line naming the key.
    static func loadConfiguration(_ flags: ConfigurationFlags) async throws -> PorteroConfiguration {
        try await loadConfiguration(configPath: flags.configPath, values: flags.values)
    }

    /// Loads the configuration with the given flag values (by key).
    static func loadConfiguration(configPath: String?, values: [String: String]) async throws -> PorteroConfiguration {
        let loader = ConfigurationLoader(file: configPath.map { .explicit($0) }, flags: values)
        do {
            return try await loader.load()
        } catch {
            printError("configuration: \(error.message)")
            throw ExitCode(78)
        }
    }

    /// Sends swift-log to journald (under systemd) or stderr, in the configured format and level.
    static func bootstrapLogging(_ configuration: PorteroConfiguration) -> Logger {
        let format = configuration.log.format
        let level = configuration.log.level
        LoggingSystem.bootstrap { label in
            JournalLogHandler(label: label, format: format, logLevel: level)
        }
        var logger = Logger(label: "portero")
        logger.logLevel = level
        return logger
    }

    static func fail(_ message: String) -> ExitCode {
        printError(message)
        return ExitCode.failure
    }

    static func printError(_ message: String) {
        let line = "portero: " + message.replacingOccurrences(of: "\n", with: " ") + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
