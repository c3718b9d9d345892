import Foundation
import PorteroTestSupport
import Testing

/// The package under a real systemd: `harness/systemd/nspawn-e2e.sh` boots systemd as PID 1 in `systemd-nspawn` (the
/// host's root read-only under a tmpfs overlay), installs a `.deb` of the built binary made by
/// `packaging/build-deb.sh`, and drives it as an admin would: socket activation, register/verify/login over the
/// Unix socket and TCP, `systemctl reload`, `journalctl -u portero PORTERO_EVENT=login.succeeded`, kill -9 and
/// `Restart=`, `systemctl stop` → exit 0. The script stops at the first failed check and names it.
@Suite("systemd end to end (nspawn)", .serialized)
struct SystemdEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var canRun: Bool {
        let files = FileManager.default
        return getuid() == 0 && files.isExecutableFile(atPath: "/usr/bin/systemd-nspawn")
            && files.isExecutableFile(atPath: "/usr/bin/nsenter") && files.isExecutableFile(atPath: "/usr/bin/dpkg-deb")
            && files.isExecutableFile(atPath: "/lib/systemd/systemd")
    }

    @Test(
        "the .deb under systemd in nspawn: activation, login, reload, journal, restart, stop",
        .enabled("needs root, systemd-nspawn (systemd-container), nsenter and dpkg-deb") { Self.canRun }
    )
    func packageUnderSystemd() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        let result = try await PorteroProcess.runProgram(
            "/bin/bash",
            [Self.repository + "/harness/systemd/nspawn-e2e.sh", "--binary", PorteroProcess.binaryPath],
            environment: environment,
            timeout: .seconds(300)
        )
        #expect(result.status == 0, "nspawn e2e failed:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("nspawn e2e: passed"))
        #expect(result.stdout.contains("exposure level for portero.service"))
    }
}
