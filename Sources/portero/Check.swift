import ArgumentParser
import Foundation
import PorteroServer
import PorteroCore
import PorteroStore

/// `portero check [--repair]`: offline consistency check of a data directory.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the data directory; report every problem with file, line and byte offset.",
        discussion: """
            The directory is --data-dir, else PORTERO_DATA_DIR / the config file's data_dir, else the default. \
            Exit status: 0 when the store is healthy, 1 when problems were found (or repaired ones remain), \
            2 when the daemon would refuse to start.
            """
    )

    @Option(name: .customLong("data-dir"), help: "The data directory to check.")
    var dataDirectory: String?

    @Option(name: .customLong("config"), help: "Config file to read data_dir from.")
    var configPath: String?

    @Flag(help: "Cut a torn tail off the last segment, after copying the segment to <segment>.broken.")
    var repair = false

    func run() async throws {
        let values = dataDirectory.map { ["data_dir": $0] } ?? [:]
        let directory = try await CommandSupport.loadConfiguration(configPath: configPath, values: values).dataDirectory
        let report: CheckReport
        do {
            try DataDirectoryOwner.adopt(directory, command: "portero check --data-dir \(directory)")
            report = try StoreChecker.check(directory: directory, stateType: AuthState.self, repair: repair)
        } catch {
            throw CommandSupport.fail(String(describing: error))
        }
        print(report.description)
        if !report.wouldStart {
            print("portero serve would refuse to start; see the problems above")
            throw ExitCode(2)
        }
        if !report.isHealthy {
            if !repair && report.problems.contains(where: \.isTornTail) {
                print("run `portero check --repair` to cut the torn tail (the daemon also cuts it at start-up)")
            }
            throw ExitCode(1)
        }
    }
}
