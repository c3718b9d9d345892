import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Makes sure the real peers of the end-to-end tests are installed: `msmtp` (Debian package, needs root) and the
/// Python package `aiosmtpd` (pip). Installs what is missing once per test run.
public actor MailTools {
    public static let shared = MailTools()

    private var result: Bool?

    /// True when both tools are usable, installing them first if needed.
    public func ensure() -> Bool {
        if let result { return result }
        let ready = ensureMsmtp() && ensureAiosmtpd()
        result = ready
        return ready
    }

    private func ensureMsmtp() -> Bool {
        if Self.shell("command -v msmtp") { return true }
        guard geteuid() == 0 else { return false }
        let install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq msmtp"
        return Self.shell(install) || (Self.shell("apt-get update -qq") && Self.shell(install))
    }

    private func ensureAiosmtpd() -> Bool {
        if Self.shell("python3 -c 'import aiosmtpd'") { return true }
        return Self.shell("python3 -m pip install -q aiosmtpd==1.4.6") && Self.shell("python3 -c 'import aiosmtpd'")
    }

    /// Runs `command` with `/bin/sh -c`; true when it exits 0. Output goes to the test's standard error.
    private static func shell(_ command: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.standardError
        do {
            try process.run()
        } catch {
            return false
        }
        process.waitUntilExit()
        return process.terminationReason == .exit && process.terminationStatus == 0
    }
}
