import Foundation
import Glibc

/// Whether the data directory belongs to the user the daemon runs as, checked before the store opens it.
///
/// A trial `portero serve` run as root before the package was installed leaves `/var/lib/portero` and its files
/// owned by root; systemd's `StateDirectory=` hands such a tree to the service's user when the directory itself has
/// the wrong owner, but not when only files inside do. The daemon then cannot open them, and every restart would
/// fail the same way, so it stops at once with one line that says what to run (exit 77, `EX_NOPERM`, which the
/// packaged unit does not restart).
public enum DataDirectoryOwnership {
    /// The exit status of a data directory the daemon's user cannot use (`EX_NOPERM` of sysexits.h).
    public static let exitStatus: Int32 = 77

    /// Why the directory cannot be used: one line naming what is wrong and the command that fixes it.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        /// Paths (relative to the data directory; `.` for the directory itself) owned by another user.
        public let foreign: [String]
        public let description: String
    }

    /// Throws ``Problem`` when `directory`, or anything below it, is owned by another user than the process's
    /// effective one.
    ///
    /// Root may use any file, so nothing is checked for uid 0. Nothing is followed: entries are examined with
    /// `lstat`, and only real directories are entered. A directory that does not exist yet is fine (the store
    /// creates it).
    public static func check(directory: String) throws {
        try check(directory: directory, uid: geteuid())
    }

    /// ``check(directory:)`` for `uid`, examining at most `limit` entries (a Maildir may hold many files).
    static func check(directory: String, uid: uid_t, limit: Int = 100_000) throws {
        guard uid != 0 else { return }
        // FileManager's attributes come from lstat(2): a symlink is described, never followed. (`struct stat` itself
        // is not usable here: in a release build its members belong to a module PorteroServer does not import.)
        let files = FileManager.default
        var foreign: [(path: String, owner: uid_t)] = []
        var examined = 0
        func visit(_ relative: String) {
            let path = relative == "." ? directory : directory + "/" + relative
            guard let attributes = try? files.attributesOfItem(atPath: path),
                let owner = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value
            else { return }
            examined += 1
            if owner != uid {
                foreign.append((relative, owner))
            }
            guard attributes[.type] as? FileAttributeType == .typeDirectory, examined < limit else { return }
            // An unreadable directory is itself owned by someone else (reported above) or not ours to read.
            guard let names = try? files.contentsOfDirectory(atPath: path) else { return }
            for name in names.sorted() where examined < limit {
                visit(relative == "." ? name : relative + "/" + name)
            }
        }
        // A directory that does not exist yet is fine: the store creates it.
        visit(".")
        guard let first = foreign.first else { return }
        let user = userName(uid) ?? "uid \(uid)"
        let group = groupName(getegid()) ?? String(getegid())
        let owner = userName(first.owner) ?? "uid \(first.owner)"
        let shown = foreign.prefix(3).map { $0.path == "." ? directory : $0.path }
        let more = foreign.count > shown.count ? " and \(foreign.count - shown.count) more" : ""
        throw Problem(
            foreign: foreign.map(\.path),
            description: "data directory \(directory) holds files owned by \(owner), not by \(user) "
                + "(\(shown.joined(separator: ", "))\(more)); as root, run: chown -R \(user):\(group) \(directory)"
        )
    }

    static func userName(_ uid: uid_t) -> String? {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    static func groupName(_ gid: gid_t) -> String? {
        guard let entry = getgrgid(gid), let name = entry.pointee.gr_name else { return nil }
        return String(cString: name)
    }
}
