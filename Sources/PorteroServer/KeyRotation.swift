import PorteroFormat
public import Foundation
import PorteroCore

/// `portero keys rotate`: a new signing key of `jwt.algorithm` in `<data_dir>/keys/`, then a `SIGHUP` to the daemon
/// that holds the data directory, if one runs.
///
/// Only keys Portero owns rotate: an HS256 secret given as `jwt.secret` / `PORTERO_JWT_SECRET` or as the systemd
/// credential `jwt-secret` is the admin's, and rotation refuses with one line saying where to change it.
public enum KeyRotation {
    /// What a rotation did, said without any secret.
    public struct Outcome: Sendable {
        public var algorithm: String
        public var kid: String
        /// Older keys that keep verifying.
        public var verifying: [String]
        /// Expired keys whose files were deleted.
        public var removed: [String]
        public var keysDirectory: String
    }

    /// Why a rotation was refused, in one line.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Writes a new key and deletes expired ones (the daemon need not run).
    public static func rotate(
        configuration: PorteroConfiguration, environment: [String: String], now: Date = Date()
    ) throws -> Outcome {
        let directory = SigningKeyFiles.directory(of: configuration)
        if configuration.tokens.algorithm == .hs256 {
            if configuration.tokens.secret != nil {
                throw Refusal(
                    description: "the HS256 secret is jwt.secret (PORTERO_JWT_SECRET), which Portero does not own; "
                        + "change it there and reload the daemon")
            }
            if let credentials = environment["CREDENTIALS_DIRECTORY"],
                FileManager.default.fileExists(atPath: credentials + "/jwt-secret")
            {
                throw Refusal(
                    description: "the HS256 secret is the systemd credential jwt-secret, which Portero does not own; "
                        + "replace that file and reload the daemon")
            }
            let owned = (try? SigningKeyFiles.readAll(directory: directory)) ?? []
            if owned.isEmpty {
                throw Refusal(
                    description: "no signing key in \(directory): under HS256 the daemon's secret then comes from "
                        + "PORTERO_JWT_SECRET or the systemd credential jwt-secret (replace it there and reload), "
                        + "or the daemon has not started yet (it makes its key at first start)")
            }
        }
        let update: SigningKeyFiles.Update
        do {
            try KeyFiles.ensureDirectory(directory)
            update = try SigningKeyFiles.update(
                directory: directory,
                algorithm: configuration.tokens.algorithm,
                retention: configuration.keyRetention,
                now: now,
                rotate: true
            )
        } catch let error as DaemonError {
            throw Refusal(description: error.description)
        }
        return Outcome(
            algorithm: update.ring.current.algorithm.rawValue,
            kid: update.ring.current.kid,
            verifying: update.ring.live.dropFirst().map(\.kid),
            removed: update.removed.map(\.kid),
            keysDirectory: directory
        )
    }

    /// How the running daemon was told.
    public enum Notice: Sendable, Equatable {
        /// `SIGHUP` sent to this pid.
        case signalled(pid: Int32)
        /// No process holds the data directory's lock.
        case notRunning
        /// This pid holds the lock but could not be signalled (another user's daemon, without root).
        case cannotSignal(pid: Int32, reason: String)
    }

    /// Sends `SIGHUP` to the process holding `<data_dir>/LOCK`, found in `/proc/locks` by the lock file's device
    /// and inode, so a stale pid can never be signalled.
    public static func notifyDaemon(dataDirectory: String) -> Notice {
        guard let pid = lockHolder(path: dataDirectory + "/LOCK") else { return .notRunning }
        if kill(pid, SIGHUP) == 0 { return .signalled(pid: pid) }
        return .cannotSignal(pid: pid, reason: String(cString: strerror(errno)))
    }

    /// The pid holding an exclusive `flock` on `path`, from `/proc/locks`.
    static func lockHolder(path: String) -> Int32? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let device = (attributes[.systemNumber] as? NSNumber)?.uint64Value,
            let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value,
            let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8)
        else { return nil }
        // glibc's major()/minor() of st_dev, as the kernel prints them.
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        let wanted =
            String(major, radix: 16).leftPadded(to: 2) + ":" + String(minor, radix: 16).leftPadded(to: 2) + ":"
            + String(inode)
        // `1: FLOCK  ADVISORY  WRITE 4242 fe:00:16227088 0 EOF`; waiters are `1: -> FLOCK …` and are skipped.
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[3] == "WRITE", fields[5] == wanted else { continue }
            return Int32(fields[4])
        }
        return nil
    }
}
