import Foundation
import Glibc
import Logging
import PorteroCore

/// The daemon's secrets: the JWT signing keys and the HMAC key of one-time codes.
///
/// Under HS256 the signing secret comes from `jwt.secret` (`PORTERO_JWT_SECRET`), else the systemd credential
/// `jwt-secret` (`$CREDENTIALS_DIRECTORY/jwt-secret`), else the key set in `<data_dir>/keys/` (see
/// ``SigningKeyFiles``), which is also where every EdDSA key lives. The code key is `<data_dir>/keys/code-hmac`,
/// generated once; it is not a signing key and is never rotated. No secret is ever logged or put in an error.
struct KeyMaterial: Sendable {
    var signing: SigningKeyRing
    /// Where the signing keys came from (a description safe to log: never a secret).
    var signingSource: String
    /// Keys past their retention that this load deleted.
    var removed: [SigningKey]
    var codeKey: [UInt8]

    static func load(configuration: PorteroConfiguration, environment: [String: String], now: Date = Date()) throws
        -> KeyMaterial
    {
        let keys = SigningKeyFiles.directory(of: configuration)
        try KeyFiles.ensureDirectory(keys)
        let codeKey = try KeyFiles.readOrCreate(keys + "/code-hmac", length: 32)
        if configuration.tokens.algorithm == .hs256,
            let external = try externalSecret(configuration: configuration, environment: environment)
        {
            let epoch = Date(timeIntervalSince1970: 0)
            guard let key = SigningKey(algorithm: .hs256, secret: external.secret, createdAt: epoch),
                let ring = SigningKeyRing(keys: [key], retention: .zero, now: now)
            else {
                throw DaemonError("the JWT secret from \(external.source) is shorter than 32 bytes")
            }
            return KeyMaterial(signing: ring, signingSource: external.source, removed: [], codeKey: codeKey)
        }
        let update = try SigningKeyFiles.update(
            directory: keys,
            algorithm: configuration.tokens.algorithm,
            retention: configuration.keyRetention,
            now: now,
            rotate: false
        )
        return KeyMaterial(signing: update.ring, signingSource: keys, removed: update.removed, codeKey: codeKey)
    }

    /// The HS256 secret Portero does not own: `jwt.secret` / `PORTERO_JWT_SECRET`, else the credential `jwt-secret`.
    static func externalSecret(configuration: PorteroConfiguration, environment: [String: String]) throws
        -> (secret: [UInt8], source: String)?
    {
        if let configured = configuration.tokens.secret {
            return (Array(configured.value.utf8), "configuration")
        }
        if let credentials = environment["CREDENTIALS_DIRECTORY"],
            let bytes = try KeyFiles.read(credentials + "/jwt-secret")
        {
            return (bytes, "systemd credential jwt-secret")
        }
        return nil
    }
}

extension PorteroConfiguration {
    /// How long a signing key keeps verifying after a newer one replaced it.
    var keyRetention: Duration {
        SigningKeyRing.retention(accessTTL: tokens.accessTTL, codeTTL: auth.codeTTL)
    }
}

/// Secret files: directory 0700, files 0600, written whole before they are visible.
enum KeyFiles {
    /// Creates `path` (0700) if missing; a directory made by root for a data directory owned by someone else is
    /// given to that owner, so the daemon can still read it.
    static func ensureDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 {
            if geteuid() == 0, let owner = owner(of: (path as NSString).deletingLastPathComponent), owner.uid != 0 {
                chown(path, owner.uid, owner.gid)
            }
        } else if errno != EEXIST {
            throw DaemonError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o700)
    }

    /// The file's bytes without a trailing newline; nil when it does not exist. A symlink is refused, not followed.
    static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw DaemonError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw DaemonError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return bytes
    }

    /// Reads the key, or creates it from the CSPRNG (base64url text, so an admin can copy it) atomically.
    static func readOrCreate(_ path: String, length: Int) throws -> [UInt8] {
        if let existing = try read(path) { return existing }
        let text = Secrets.base64URL(Secrets.randomBytes(length))
        try writeAtomically(path, Array((text + "\n").utf8))
        return Array(text.utf8)
    }

    /// Writes `bytes` to `path` (0600) through a temporary file: written, fsynced, renamed, directory fsynced.
    /// Written by root into a directory someone else owns, the file is given to that owner.
    static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp"
        // A leftover (or planted) temporary is removed, never written through: the new one is O_EXCL.
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw DaemonError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        if geteuid() == 0, let owner = owner(of: directory), owner.uid != 0 {
            fchown(fd, owner.uid, owner.gid)
        }
        fchmod(fd, 0o600)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            written += count
        }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw DaemonError("cannot write \(path)")
        }
        syncDirectory(directory)
    }

    /// The owner and group of `path`.
    static func owner(of path: String) -> (uid: uid_t, gid: gid_t)? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let uid = attributes[.ownerAccountID] as? NSNumber, let gid = attributes[.groupOwnerAccountID] as? NSNumber
        else { return nil }
        return (uid_t(uid.uint32Value), gid_t(gid.uint32Value))
    }

    /// Makes creations, renames and removals in `directory` durable.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
