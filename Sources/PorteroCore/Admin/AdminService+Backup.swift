import Logging

/// A file of a backup: a path relative to the data directory, its mode and bytes.
public struct BackupFile: Sendable, Equatable {
    public var path: String
    public var mode: UInt16
    public var contents: [UInt8]

    public init(path: String, mode: UInt16, contents: [UInt8]) {
        self.path = path
        self.mode = mode
        self.contents = contents
    }
}

/// Where a backup's files come from: the data directory of the running store (PorteroServer's
/// `DataDirectoryBackup`).
public protocol BackupSource: Sendable {
    /// The files of a data directory that starts from a snapshot covering at least `seq`: that snapshot and the
    /// keys beside it (signing keys, the code HMAC key). No log: the snapshot is the consistent state.
    func files(coveringAtLeast seq: UInt64) async throws -> [BackupFile]
}

extension AdminService {
    /// A consistent copy of the store (`portero backup`): a snapshot written now — so it holds every write
    /// acknowledged before the request — and the keys, after an audit record. 503 when the store cannot write or
    /// the files cannot be read.
    public func backup(peer: AdminPeer) async throws -> (seq: UInt64, files: [BackupFile]) {
        guard let backups else { throw PorteroError.unavailable() }
        let seq = try await snapshot(peer: peer, action: "backup")
        let files: [BackupFile]
        do {
            files = try await backups.files(coveringAtLeast: seq)
        } catch {
            peer.logger.error("backup failed", metadata: ["event": "store.unavailable", "error": "\(error)"])
            throw PorteroError.unavailable()
        }
        Self.event(
            peer, "backup", "backup taken at an admin's request", userID: nil,
            ["seq": "\(seq)", "files": "\(files.count)", "bytes": "\(files.reduce(0) { $0 + $1.contents.count })"])
        return (seq, files)
    }
}
