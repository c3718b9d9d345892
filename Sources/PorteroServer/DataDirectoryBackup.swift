import Foundation
import Glibc
import PorteroCore

/// The files of a backup, read from the daemon's data directory (`portero backup`): the newest snapshot — written
/// for the backup, or a later one — and every key file in `keys/`, byte for byte. Log segments are not copied: the
/// snapshot is the consistent state, and `portero serve` on a directory holding only a snapshot starts a new log
/// after it. The mail Maildir, the socket and `LOCK` stay behind.
struct DataDirectoryBackup: BackupSource {
    let dataDirectory: String

    func files(coveringAtLeast seq: UInt64) async throws -> [BackupFile] {
        try await DispatchQueue.blockingWork.run { try read(coveringAtLeast: seq) }
    }

    private func read(coveringAtLeast seq: UInt64) throws -> [BackupFile] {
        // A periodic snapshot may land between the backup's snapshot and this read and remove the older file:
        // then a newer one is there, and it covers the backup's seq too.
        var snapshot: BackupFile?
        for _ in 0..<3 where snapshot == nil {
            guard let name = try newestSnapshot(), let covered = Self.seq(ofSnapshot: name), covered >= seq else {
                throw DaemonError("no snapshot covering record \(seq) in \(dataDirectory)")
            }
            snapshot = try Self.readRegularFile(dataDirectory + "/" + name).map {
                BackupFile(path: name, mode: 0o600, contents: $0)
            }
        }
        guard let snapshot else { throw DaemonError("the snapshots of \(dataDirectory) kept changing") }
        var files = [snapshot]
        let keys = dataDirectory + "/keys"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: keys)) ?? []
        for name in names.sorted() where !name.hasSuffix(".tmp") && !name.hasPrefix(".") {
            if let bytes = try Self.readRegularFile(keys + "/" + name) {
                files.append(BackupFile(path: "keys/" + name, mode: 0o600, contents: bytes))
            }
        }
        return files
    }

    private func newestSnapshot() throws -> String? {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dataDirectory)
        } catch {
            throw DaemonError("cannot list \(dataDirectory)")
        }
        return names.filter { Self.seq(ofSnapshot: $0) != nil }.max {
            Self.seq(ofSnapshot: $0)! < Self.seq(ofSnapshot: $1)!
        }
    }

    /// The seq in `snapshot-<digits>.json`.
    static func seq(ofSnapshot name: String) -> UInt64? {
        guard name.hasPrefix("snapshot-"), name.hasSuffix(".json") else { return nil }
        let digits = name.dropFirst("snapshot-".count).dropLast(".json".count)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }

    /// The bytes of a regular file, never through a symlink; nil when it is gone or is not a regular file.
    static func readRegularFile(_ path: String) throws -> [UInt8]? {
        // lstat(2) through FileManager, then O_NOFOLLOW | O_NONBLOCK: no link is followed and no FIFO blocks.
        guard let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType,
            type == .typeRegular
        else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ELOOP { return nil }
            throw DaemonError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw DaemonError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }
}
