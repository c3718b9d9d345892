import Foundation

/// Whether this process can hand mail to the machine's MTA through `/usr/sbin/sendmail`.
///
/// Postfix's `sendmail` drops a message into its queue through the set-group-ID `postdrop`, and exim's `sendmail` is
/// exim itself, set-user-ID root. Under `NoNewPrivileges=` (the shipped unit, and implied by its sandboxing) the kernel
/// runs both without those IDs, so they cannot write their queue and every message fails. Both MTAs also accept
/// mail from loopback on port 25 (Debian's default configurations), which needs no privilege at all: the same MTA,
/// through another door. See docs/decisions.md, "Mail under the shipped unit".
public enum LocalMTA {
    static let sendmailPath = "/usr/sbin/sendmail"
    static let postdropPath = "/usr/sbin/postdrop"

    /// True when `/usr/sbin/sendmail` needs a set-user-ID or set-group-ID program this process cannot gain.
    public static func sendmailNeedsPrivileges() -> Bool {
        noNewPrivileges() && (hasSetIDBit(sendmailPath) || hasSetIDBit(postdropPath))
    }

    /// `NoNewPrivs: 1` in `/proc/self/status`: execve(2) grants no set-user/group-ID.
    static func noNewPrivileges() -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return false }
        return status.split(separator: "\n").contains { line in
            line.hasPrefix("NoNewPrivs:")
                && line.dropFirst("NoNewPrivs:".count).trimmingCharacters(in: .whitespaces) == "1"
        }
    }

    /// The file `path` resolves to (symlinks followed) is set-user-ID or set-group-ID.
    private static func hasSetIDBit(_ path: String) -> Bool {
        // FileManager rather than stat(2): `struct stat`'s members belong to whichever C module loaded it first.
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: target),
            let mode = (attributes[.posixPermissions] as? NSNumber)?.uint16Value
        else { return false }
        return mode & 0o6000 != 0
    }
}
