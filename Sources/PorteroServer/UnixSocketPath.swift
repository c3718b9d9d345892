import Foundation
import Glibc

/// The Unix socket's path: its directory exists, and a stale socket left by a dead daemon is removed.
enum UnixSocketPath {
    /// - Important: call only while holding the data directory's lock.
    static func prepare(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o755]
                )
            } catch {
                throw DaemonError("cannot create the socket directory \(directory)")
            }
        }
        // FileManager's attributes come from lstat(2): a symlink is not followed. (Not `struct stat` itself: which
        // module declares it differs between debug and release builds, and MemberImportVisibility refuses it.)
        guard let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType else {
            return
        }
        guard type == .typeSocket else {
            throw DaemonError("\(path) exists and is not a socket; refusing to replace it")
        }
        guard unlink(path) == 0 else {
            throw DaemonError("cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }
}
