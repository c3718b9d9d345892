import Foundation
import PorteroFormat
import PorteroCore

/// The signing key set on disk: one file per key in `<data_dir>/keys/`, `signing-<kid>.json` (0600), holding
/// `{"alg":"EdDSA"|"HS256","created_at":"<RFC 3339, milliseconds>","key":"<base64url private key or secret>",
/// "kid":"<kid>"}`.
///
/// The newest key signs; older ones verify until their successor's `created_at` plus the retention (see
/// ``SigningKeyRing``), and are deleted at the first load after that. A `jwt-secret` file left by an older Portero is
/// read as an HS256 key made at its modification time. Every change happens under an exclusive `flock` on the
/// `keys/` directory, so `portero keys rotate` and a starting or reloading daemon never interleave.
enum SigningKeyFiles {
    /// `<data_dir>/keys`.
    static func directory(of configuration: PorteroConfiguration) -> String {
        configuration.dataDirectory + "/keys"
    }

    /// What ``update(directory:algorithm:retention:now:rotate:)`` found and did.
    struct Update {
        var ring: SigningKeyRing
        /// The key it made, if any.
        var created: SigningKey?
        /// Expired keys whose files it deleted.
        var removed: [SigningKey]
    }

    /// Under the directory's lock: reads every key; makes a new key of `algorithm` when `rotate` is set, when
    /// there is none, or when the newest key is of another algorithm (switching `jwt.algorithm` is a rotation, so
    /// tokens signed before keep verifying); deletes the files of expired keys.
    static func update(directory: String, algorithm: SigningKey.Algorithm, retention: Duration, now: Date, rotate: Bool)
        throws -> Update
    {
        let lock = try DirectoryLock(directory)
        defer { lock.release() }
        var files = try readAll(directory: directory)
        var created: SigningKey?
        let newest = files.max { ($0.key.createdAt, $0.key.kid) < ($1.key.createdAt, $1.key.kid) }
        if rotate || newest == nil || newest?.key.algorithm != algorithm {
            // Never older than the newest key: the new key must be the one that signs.
            let createdAt = max(now, newest.map { $0.key.createdAt.addingTimeInterval(0.001) } ?? now)
            let key = SigningKey.generate(algorithm, now: createdAt)
            let path = directory + "/signing-" + key.kid + ".json"
            try KeyFiles.writeAtomically(path, encode(key))
            files.append((key, path))
            created = key
        }
        guard let ring = SigningKeyRing(keys: files.map(\.key), retention: retention, now: now) else {
            throw DaemonError("no signing key in \(directory)")
        }
        let expired = Set(ring.expired.map(\.kid))
        var removed: [SigningKey] = []
        for file in files where expired.contains(file.key.kid) {
            if unlink(file.path) == 0 { removed.append(file.key) }
        }
        if !removed.isEmpty { KeyFiles.syncDirectory(directory) }
        return Update(ring: ring, created: created, removed: removed)
    }

    /// Every key in `directory` with its file; a file that is not a valid key stops the load, naming the file.
    static func readAll(directory: String) throws -> [(key: SigningKey, path: String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw DaemonError("cannot list \(directory)")
        }
        var keys: [(key: SigningKey, path: String)] = []
        for name in names {
            let path = directory + "/" + name
            if name.hasPrefix("signing-") && name.hasSuffix(".json") {
                guard let bytes = try KeyFiles.read(path), let key = decode(bytes) else {
                    throw DaemonError("\(path) is not a valid signing key file")
                }
                guard name == "signing-" + key.kid + ".json" else {
                    throw DaemonError("\(path) holds the key \(key.kid), not the one its name says")
                }
                keys.append((key, path))
            } else if name == "jwt-secret", let secret = try KeyFiles.read(path) {
                let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
                guard let key = SigningKey(algorithm: .hs256, secret: secret, createdAt: modified ?? Date()) else {
                    throw DaemonError("the JWT secret in \(path) is shorter than 32 bytes")
                }
                keys.append((key, path))
            }
        }
        return keys
    }

    /// The file's bytes for `key`.
    static func encode(_ key: SigningKey) -> [UInt8] {
        let fields = [
            "\"alg\":\"\(key.algorithm.rawValue)\"",
            "\"created_at\":\"\(timestamp(key.createdAt))\"",
            "\"key\":\"\(Secrets.base64URL(key.secret))\"",
            "\"kid\":\"\(key.kid)\"",
        ]
        return Array(("{" + fields.joined(separator: ",") + "}\n").utf8)
    }

    /// The key a file holds; nil when anything is missing, unknown or inconsistent.
    static func decode(_ bytes: [UInt8]) -> SigningKey? {
        guard case .object(let object)? = try? StrictJSONParser(maxDepth: 2).parse(bytes),
            Set(object.keys) == ["alg", "created_at", "key", "kid"],
            case .string(let alg)? = object["alg"], let algorithm = SigningKey.Algorithm(rawValue: alg),
            case .string(let created)? = object["created_at"], let createdAt = date(created),
            case .string(let material)? = object["key"], let secret = Secrets.decodeBase64URL(material),
            case .string(let kid)? = object["kid"],
            let key = SigningKey(algorithm: algorithm, secret: secret, createdAt: createdAt), key.kid == kid
        else { return nil }
        return key
    }

    /// RFC 3339 UTC with milliseconds: `2026-01-15T10:30:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        UTCTimestamp(date).string
    }

    static func date(_ text: String) -> Date? {
        UTCTimestamp(parsing: text)?.date
    }
}

/// An exclusive `flock` on a directory, held until ``release()``.
struct DirectoryLock {
    private let fd: Int32

    init(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DaemonError("cannot open \(path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw DaemonError("cannot lock \(path): \(reason)")
            }
        }
        self.fd = fd
    }

    func release() {
        close(fd)
    }
}
