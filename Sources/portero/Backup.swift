import ArgumentParser
import Foundation
import Glibc
import PorteroFormat

/// `portero backup DEST`: a consistent copy of the running daemon's data directory, through the admin API.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the running daemon's data into a new directory (admin API; root or the daemon's user).",
        discussion: """
            The daemon writes a snapshot now, so the copy holds every write acknowledged before the command \
            started, and sends it with its signing and code keys. DEST must not exist, or be an empty directory \
            of yours; it is made 0700 with every file 0600. `portero check --data-dir DEST` checks the copy and \
            `portero serve --data-dir DEST` starts from it (for the packaged service: chown -R portero:portero).
            """
    )

    @OptionGroup var options: AdminOptions

    @Argument(help: "The new directory the copy goes into.")
    var destination: String

    func run() async throws {
        let existed = try Self.checkDestination(destination)
        let answer = try await options.client().call(
            "POST", "/admin/v1/backup",
            forbidden: "a backup holds the signing keys: run it as root or as the daemon's user")
        let entries: [TarArchive.Entry]
        do {
            entries = try TarArchive.entries(of: Array(answer.body))
        } catch {
            throw CommandSupport.fail("the daemon's backup is not a valid archive: \(error)")
        }
        let files = try Self.checked(entries)
        try Self.write(files, into: destination, existed: existed)
        let snapshot = files.first { $0.path.hasPrefix("snapshot-") }?.path ?? "?"
        let bytes = files.reduce(0) { $0 + $1.contents.count }
        if options.json {
            let summary: [String: Any] = [
                "destination": destination, "snapshot": snapshot, "files": files.map(\.path), "bytes": bytes,
            ]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(
            "backup written to \(destination): \(snapshot) and \(files.count - 1) key file(s), \(bytes) bytes; "
                + "start from it with: portero serve --data-dir \(destination)")
    }

    /// DEST must be new, or an empty real directory owned by this user: a root-run backup never writes into a
    /// directory (or through a link) someone else controls.
    /// - Returns: whether DEST exists (an empty directory of this user's).
    @discardableResult
    static func checkDestination(_ path: String) throws -> Bool {
        // FileManager's attributes come from lstat(2): a link at DEST is described, never followed.
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            if !FileManager.default.fileExists(atPath: path),
                (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil
            {
                return false
            }
            throw CommandSupport.fail("cannot use \(path): \(error.localizedDescription)")
        }
        guard attributes[.type] as? FileAttributeType == .typeDirectory else {
            throw CommandSupport.fail("\(path) exists and is not a directory: a backup goes into a new directory")
        }
        let owner = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value
        guard owner == geteuid() else {
            throw CommandSupport.fail(
                "\(path) belongs to uid \(owner.map(String.init) ?? "?"), not to you: a backup goes into a new directory"
            )
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
        guard contents.isEmpty else {
            throw CommandSupport.fail("\(path) is not empty: a backup goes into a new directory")
        }
        return true
    }

    /// Only what a backup holds: one `snapshot-<digits>.json` and `keys/<name>` files.
    static func checked(_ entries: [TarArchive.Entry]) throws -> [TarArchive.Entry] {
        let files = entries.filter { $0.kind == .file }
        for file in files {
            let parts = file.path.split(separator: "/", omittingEmptySubsequences: false)
            let isSnapshot = parts.count == 1 && file.path.hasPrefix("snapshot-") && file.path.hasSuffix(".json")
            let isKey = parts.count == 2 && parts[0] == "keys" && !parts[1].isEmpty && !parts[1].hasPrefix(".")
            guard isSnapshot || isKey else {
                throw CommandSupport.fail("the daemon's backup holds an unexpected file \(file.path); nothing written")
            }
        }
        guard files.filter({ $0.path.hasPrefix("snapshot-") }).count == 1 else {
            throw CommandSupport.fail("the daemon's backup holds no snapshot; nothing written")
        }
        return files
    }

    /// Writes the files below `path` with openat(2) from the directory's own descriptor: O_EXCL, O_NOFOLLOW, 0600
    /// files in 0700 directories, each fsynced, then the directories.
    static func write(_ files: [TarArchive.Entry], into path: String, existed: Bool) throws {
        // A DEST that was not there when checked must be made here: one that appeared meanwhile is someone else's.
        if mkdir(path, 0o700) != 0, !(existed && errno == EEXIST) {
            throw CommandSupport.fail("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        let root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw CommandSupport.fail("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(root) }
        fchmod(root, 0o700)
        var keys: Int32 = -1
        defer { if keys >= 0 { close(keys) } }
        for file in files {
            var directory = root
            var name = file.path
            if file.path.hasPrefix("keys/") {
                if keys < 0 {
                    // Never EEXIST: DEST was empty, and anything that appeared in it since is not ours to write into.
                    guard mkdirat(root, "keys", 0o700) == 0 else {
                        throw CommandSupport.fail("cannot create \(path)/keys: \(String(cString: strerror(errno)))")
                    }
                    keys = openat(root, "keys", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard keys >= 0 else {
                        throw CommandSupport.fail("cannot open \(path)/keys: \(String(cString: strerror(errno)))")
                    }
                    fchmod(keys, 0o700)
                }
                directory = keys
                name = String(file.path.dropFirst("keys/".count))
            }
            let fd = openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw CommandSupport.fail("cannot create \(path)/\(file.path): \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            var written = 0
            while written < file.contents.count {
                let count = file.contents.withUnsafeBytes {
                    Glibc.write(fd, $0.baseAddress! + written, $0.count - written)
                }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    throw CommandSupport.fail("cannot write \(path)/\(file.path): \(String(cString: strerror(errno)))")
                }
                written += count
            }
            guard fsync(fd) == 0 else {
                throw CommandSupport.fail("cannot write \(path)/\(file.path): \(String(cString: strerror(errno)))")
            }
        }
        if keys >= 0 { fsync(keys) }
        fsync(root)
    }
}
