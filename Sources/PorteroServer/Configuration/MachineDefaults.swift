import Foundation
public import Systemd

/// The embedded defaults of SPEC §2 that depend on the machine and the way the daemon was started.
public struct MachineDefaults: Sendable {
    /// `data_dir`: `$STATE_DIRECTORY`, else `/var/lib/portero` for root, else `$XDG_STATE_HOME/portero` or
    /// `~/.local/state/portero`.
    public var dataDirectory: String
    /// `socket` for a data directory: `$RUNTIME_DIRECTORY/portero.sock`, else `/run/portero/portero.sock` for
    /// root, else `<data_dir>/portero.sock`.
    public var socketPath: @Sendable (String) -> String
    /// `mail.transport`: sendmail when `/usr/sbin/sendmail` exists, else maildir — but smtp to the local MTA
    /// (``localMTA``) when that sendmail needs privileges this process cannot gain (``LocalMTA``).
    public var mailTransport: MailConfiguration.Transport
    /// The default transport is the machine's MTA over SMTP on loopback: `mail.smtp.host` defaults to
    /// `127.0.0.1`, `mail.smtp.port` to 25 and `mail.smtp.tls` to `none`.
    public var localMTA: Bool
    /// `mail.from`: `portero@<hostname>`.
    public var mailFrom: String
    /// `log.format`: journal when stderr goes to journald, else text.
    public var logFormat: JournalLogHandler.Format

    public init(
        environment: [String: String],
        userID: UInt32,
        hostname: String,
        fileExists: (String) -> Bool,
        sendmailNeedsPrivileges: Bool = false
    ) {
        let isRoot = userID == 0
        if let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first {
            dataDirectory = String(state)
        } else if isRoot {
            dataDirectory = "/var/lib/portero"
        } else if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            dataDirectory = xdg + "/portero"
        } else {
            dataDirectory = (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/portero"
        }
        let runtime = environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first.map(String.init)
        socketPath = { dataDirectory in
            if let runtime { return runtime + "/portero.sock" }
            return isRoot ? "/run/portero/portero.sock" : dataDirectory + "/portero.sock"
        }
        localMTA = fileExists(LocalMTA.sendmailPath) && sendmailNeedsPrivileges
        mailTransport = localMTA ? .smtp : fileExists(LocalMTA.sendmailPath) ? .sendmail : .maildir
        mailFrom = "portero@\(hostname)"
        logFormat = environment["JOURNAL_STREAM"] != nil ? .journal : .text
    }
}
