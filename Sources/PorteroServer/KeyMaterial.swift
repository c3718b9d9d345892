import Foundation
import Logging
import PorteroCore

/// The daemon's secrets: the HS256 signing secret and the HMAC key of one-time codes.
///
/// The signing secret comes from `jwt.secret` (`PORTERO_JWT_SECRET`), else the systemd credential `jwt-secret`
/// (`$CREDENTIALS_DIRECTORY/jwt-secret`), else `<data_dir>/keys/jwt-secret`, generated once. Neither secret is
/// ever logged or put in an error.
struct KeyMaterial: Sendable {
    var jwtSecret: [UInt8]
    /// Where the secret came from (a description safe to log: never the secret).
    var jwtSecretSource: String
    var codeKey: [UInt8]

    static func load(configuration: PorteroConfiguration, environment: [String: String]) throws -> KeyMaterial {
        let keys = configuration.dataDirectory + "/keys"
        try KeyFiles.ensureDirectory(keys)
        let secret: [UInt8]
        let source: String
        if let configured = configuration.jwtSecret {
            secret = Array(configured.utf8)
            source = "configuration"
        } else if let credentials = environment["CREDENTIALS_DIRECTORY"],
            let bytes = try KeyFiles.read(credentials + "/jwt-secret")
        {
            secret = bytes
            source = "systemd credential jwt-secret"
        } else {
            secret = try KeyFiles.readOrCreate(keys + "/jwt-secret", length: 48)
            source = keys + "/jwt-secret"
        }
        guard secret.count >= 32 else {
            throw DaemonError("the JWT secret from \(source) is shorter than 32 bytes")
        }
        let codeKey = try KeyFiles.readOrCreate(keys + "/code-hmac", length: 32)
        return KeyMaterial(jwtSecret: secret, jwtSecretSource: source, codeKey: codeKey)
    }
}

/// Secret files: directory 0700, files 0600, written whole before they are visible.
enum KeyFiles {
    static func ensureDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw DaemonError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o700)
    }

    /// The file's bytes without a trailing newline; nil when it does not exist.
    static func read(_ path: String) throws -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DaemonError("cannot read \(path)")
        }
        var bytes = Array(data)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return bytes
    }

    /// Reads the key, or creates it from the CSPRNG (base64url text, so an admin can copy it) atomically.
    static func readOrCreate(_ path: String, length: Int) throws -> [UInt8] {
        if let existing = try read(path) { return existing }
        let text = Secrets.base64URL(Secrets.randomBytes(length)) + "\n"
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DaemonError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw DaemonError("cannot write \(path)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
        return Array(text.utf8.dropLast())
    }
}
