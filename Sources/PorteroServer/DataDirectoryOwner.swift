import Foundation
import Glibc

// In a release build the compiler attributes Glibc's `struct stat` to NIO's CNIOLinux module (it includes the same
// header), and MemberImportVisibility then refuses `st_uid` unless that module is imported too.
#if canImport(CNIOLinux)
    internal import CNIOLinux
#endif

/// What a command run as root does before it touches a data directory that belongs to someone else: it becomes
/// that user (supplementary groups dropped, then group, then user), so every file it creates or changes is the
/// daemon's and no link planted by that user can make root write, chmod or read somewhere else.
public enum DataDirectoryOwner {
    /// Switches to the owner of `directory` when running as root and the directory belongs to another user; does
    /// nothing otherwise (not root, owned by root, or not there yet).
    ///
    /// - Parameter command: the command line to suggest when switching cannot work (`portero check`).
    /// - Throws: ``DaemonError`` saying how to run the command when the owner could not reach the directory (a
    ///   parent it may not search, as under systemd's `DynamicUser`) or the switch failed.
    /// - Important: call it before anything else opens files in the directory; it cannot be undone.
    public static func adopt(_ directory: String, command: String) throws {
        guard geteuid() == 0 else { return }
        var info = Glibc.stat()
        guard stat(directory, &info) == 0, info.st_uid != 0 else { return }
        let (uid, gid) = (info.st_uid, info.st_gid)
        let name = userName(uid)
        let advice =
            "\(directory) belongs to \(name): run this command as that user, "
            + "e.g. `sudo -u \(name) \(command)` or `systemd-run --uid=\(name) --pty --wait \(command)`"
        guard canSearchParents(of: directory, uid: uid, gid: gid) else {
            throw DaemonError("\(advice) (it cannot reach the directory through its parents)")
        }
        guard setgroups(0, nil) == 0, setgid(gid) == 0, setuid(uid) == 0, geteuid() == uid else {
            throw DaemonError("\(advice) (switching to it failed: \(String(cString: strerror(errno))))")
        }
    }

    /// Refuses to run the daemon as root on a data directory that belongs to another user: every file it made there
    /// would be root's, which that user's daemon could then not read. Does nothing when not root, when the
    /// directory is root's or not there yet.
    ///
    /// - Throws: ``DaemonError`` naming the owner and how to run the daemon as that user.
    public static func refuseForeign(_ directory: String) throws {
        guard geteuid() == 0 else { return }
        var info = Glibc.stat()
        guard stat(directory, &info) == 0, info.st_uid != 0 else { return }
        let name = userName(info.st_uid)
        throw DaemonError(
            "\(directory) belongs to \(name): run the daemon as that user, e.g. `systemctl start portero` or "
                + "`sudo -u \(name) portero serve --data-dir \(directory)`, not as root")
    }

    private static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "#\(uid)" }
        return String(cString: name)
    }

    /// Whether `uid`/`gid` may search every directory on the way to `directory` (by mode bits; root's ACLs aside).
    private static func canSearchParents(of directory: String, uid: uid_t, gid: gid_t) -> Bool {
        guard let resolved = realpath(directory, nil) else { return false }
        defer { free(resolved) }
        var path = String(cString: resolved)
        while path != "/" {
            path = (path as NSString).deletingLastPathComponent
            var info = Glibc.stat()
            guard stat(path, &info) == 0 else { return false }
            let bit = mode_t(info.st_uid == uid ? S_IXUSR : info.st_gid == gid ? S_IXGRP : S_IXOTH)
            if info.st_mode & bit == 0 { return false }
        }
        return true
    }
}
