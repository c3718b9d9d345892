import Foundation
import PorteroTestSupport
import Testing

/// A data directory that holds files of another user (a trial `portero serve` run as root, then the package's
/// `portero` user): the daemon stops at once with exit 77 and one line naming the files and the `chown` to run,
/// instead of failing on the first file it cannot open (which the packaged unit would restart forever).
@Suite("Data directory ownership", .serialized)
struct DataDirectoryOwnershipTests {
    static var canRun: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    /// `portero serve` as uid/gid 65534 (`nobody`/`nogroup`) on `dataDirectory`.
    static func serveAsNobody(_ dataDirectory: String, socket: String) async throws -> CommandResult {
        try await PorteroProcess.runProgram(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", PorteroProcess.binaryPath, "serve",
                "--data-dir", dataDirectory, "--listen", "127.0.0.1:\(try PorteroProcess.freePort())",
                "--socket", socket, "--log-format", "text", "--mail-transport", "maildir",
            ],
            environment: PorteroProcess.cleanEnvironment(),
            timeout: .seconds(30)
        )
    }

    @Test(
        "root-owned files in another user's data directory: exit 77, one line with the chown to run",
        .enabled("needs root and setpriv") { Self.canRun }
    )
    func foreignFilesStopAtOnce() async throws {
        // A data directory made by root, as a trial run leaves it: a store, then handed (top only) to nobody.
        let daemon = try PorteroProcess()
        try await daemon.startAndWait()
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let data = daemon.dataDirectory
        chmod(daemon.directory.path, 0o755)
        #expect(chown(data, 65534, 65534) == 0)

        let started = ContinuousClock.now
        let result = try await Self.serveAsNobody(data, socket: daemon.directory.file("nobody.sock"))
        #expect(result.status == 77, "\(result.stderr)")
        #expect(ContinuousClock.now - started < .seconds(10))
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("owned by root, not by nobody"))
        #expect(result.stderr.contains("LOCK"))
        #expect(result.stderr.contains("run: chown -R nobody:nogroup \(data)"))

        // What the line says to run fixes it.
        let chown = try await PorteroProcess.runProgram(
            "/bin/chown", ["-R", "nobody:nogroup", data], environment: PorteroProcess.cleanEnvironment())
        #expect(chown.status == 0)
        let check = try await PorteroProcess.runProgram(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", PorteroProcess.binaryPath, "check", "--data-dir",
                data,
            ],
            environment: PorteroProcess.cleanEnvironment())
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        daemon.directory.remove()
    }

    @Test(
        "a symlink in the data directory is not followed by the check",
        .enabled("needs root and setpriv") { Self.canRun }
    )
    func symlinksNotFollowed() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        chmod(directory.path, 0o755)
        let data = directory.file("data")
        #expect(mkdir(data, 0o700) == 0)
        // A link owned by nobody pointing at a root-owned directory: only the link itself is examined.
        #expect(symlink("/etc", data + "/elsewhere") == 0)
        #expect(lchown(data + "/elsewhere", 65534, 65534) == 0)
        #expect(chown(data, 65534, 65534) == 0)
        let result = try await PorteroProcess.runProgram(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", PorteroProcess.binaryPath, "serve",
                "--data-dir", data, "--listen", "", "--socket", "", "--log-format", "text", "--mail-transport",
                "maildir",
            ],
            environment: PorteroProcess.cleanEnvironment(),
            timeout: .seconds(30)
        )
        // Past the check, the store opens and start-up stops later for another reason: nothing to serve.
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("nothing to serve"), "\(result.stderr)")
        #expect(!result.stderr.contains("holds files owned by"), "\(result.stderr)")
    }
}
