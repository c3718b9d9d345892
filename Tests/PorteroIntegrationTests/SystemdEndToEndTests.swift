import Foundation
import PorteroTestSupport
import Testing

/// The package under a real systemd: `harness/systemd/nspawn-e2e.sh` boots systemd as PID 1 in `systemd-nspawn` (the
/// host's root read-only under a tmpfs overlay), makes two `.deb`s of the built binary with `packaging/build-deb.sh`
/// (the second a higher version), checks them with lintian, and lives with them as an admin would: a trial run as
/// root before `dpkg -i` (the service adopts its data; a clean start writes no PRIORITY<=4 line), socket activation,
/// register/verify/login over the Unix socket and TCP, `systemctl reload`, the journal, kill -9 and `Restart=`,
/// `systemctl stop` → exit 0, an upgrade while serving (one restart; tokens, sessions, keys kept), a data directory it
/// cannot use (exit 77, no restart loop), `apt remove` and `apt purge`, and `apt install ./portero_*.deb` fetching a
/// missing dependency from a local repository. The script stops at the first failed check and names it.
@Suite("systemd end to end (nspawn)", .serialized)
struct SystemdEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var canRun: Bool {
        let files = FileManager.default
        return getuid() == 0 && files.isExecutableFile(atPath: "/usr/bin/systemd-nspawn")
            && files.isExecutableFile(atPath: "/usr/bin/nsenter") && files.isExecutableFile(atPath: "/usr/bin/dpkg-deb")
            && files.isExecutableFile(atPath: "/lib/systemd/systemd")
            && files.isExecutableFile(atPath: "/usr/bin/lintian")
    }

    @Test(
        "the .deb under systemd in nspawn: trial run, install, use, upgrade, failure, remove, purge, apt install",
        .enabled("needs root, systemd-nspawn (systemd-container), nsenter, dpkg-deb and lintian") { Self.canRun }
    )
    func packageUnderSystemd() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        let result = try await PorteroProcess.runProgram(
            "/bin/bash",
            [Self.repository + "/harness/systemd/nspawn-e2e.sh", "--binary", PorteroProcess.binaryPath],
            environment: environment,
            timeout: .seconds(900)
        )
        #expect(result.status == 0, "nspawn e2e failed:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("nspawn e2e: passed"))
        #expect(result.stdout.contains("exposure level for portero.service"))
        #expect(result.stdout.contains("adopted the trial's data"))
        #expect(result.stdout.contains("restarted once"))
        #expect(result.stdout.contains("apt purge"))
    }
}
