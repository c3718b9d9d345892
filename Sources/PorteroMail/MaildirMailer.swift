import Dispatch
public import PorteroCore
public import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Delivers messages into a Maildir, the embedded default transport when there is no `/usr/sbin/sendmail`.
///
/// Standard Maildir delivery: the message is written to `tmp/<unique>` (mode 0600) and fsynced, hard-linked into
/// `new/<unique>` (renamed where the file system has no hard links), the `tmp/` name removed, and `new/` fsynced.
/// `<unique>` is `<seconds>.<pid>_<counter>.<hostname>`. The directory and its `tmp/`, `new/` and `cur/` are created
/// with mode 0700 when missing (not the directory's parents). Files use LF line endings, the Maildir convention.
public struct MaildirMailer: Mailer {
    /// The Maildir's path.
    public let directory: String
    /// The `From` header value.
    public let from: String
    private let hostname: String
    private let logger: Logger
    private let currentDate: @Sendable () -> Date

    /// Process-wide delivery counter, part of every unique name.
    private static let counter = Atomic<Int>(0)

    /// Creates a Maildir transport.
    ///
    /// - Parameters:
    ///   - directory: the Maildir (`mail.maildir`).
    ///   - from: the `From` header value (`mail.from`).
    ///   - hostname: used in file names and `Message-ID`s; the system's host name when nil.
    ///   - logger: logs deliveries at `debug`, with the message id and kind only.
    ///   - currentDate: the clock for the `Date` header and file names.
    public init(
        directory: String,
        from: String,
        hostname: String? = nil,
        logger: Logger = Logger(label: "portero.mail.maildir"),
        currentDate: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.directory = directory
        self.from = from
        self.hostname = hostname ?? HostName.current()
        self.logger = logger
        self.currentDate = currentDate
    }

    /// Writes `message` into the Maildir's `new/`.
    ///
    /// - Throws: `MailError` (`.invalidHeader`, `.io`).
    public func deliver(_ message: OutboxMail) async throws {
        let date = currentDate()
        let bytes = try RFC5322Message(message, from: from, date: date, messageIDDomain: hostname).bytes(
            lineEnding: .lf)
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let directory = directory
        let hostname = Self.fileNameSafe(hostname)
        let name = try await DispatchQueue.blockingWork.run { () throws(MailError) -> String in
            try Self.deliverBlocking(bytes, into: directory, seconds: seconds, hostname: hostname)
        }
        logger.debug(
            "mail delivered to Maildir",
            metadata: [
                "mail.transport": "maildir",
                "mail.id": "\(message.id)",
                "mail.kind": "\(message.kind)",
                "mail.file": "\(name)",
            ]
        )
    }

    /// The host name with `/` and `:` escaped as the Maildir specification asks.
    private static func fileNameSafe(_ hostname: String) -> String {
        hostname.replacingOccurrences(of: "/", with: "\\057").replacingOccurrences(of: ":", with: "\\072")
    }

    private static func deliverBlocking(_ bytes: [UInt8], into directory: String, seconds: Int, hostname: String)
        throws(MailError) -> String
    {
        let tmp = directory + "/tmp"
        let new = directory + "/new"
        for path in [directory, tmp, new, directory + "/cur"] {
            try makeDirectory(path)
        }
        // A name can only collide after a pid was reused within the same second; try a few counters.
        var attempts = 0
        while true {
            attempts += 1
            let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
            let name = "\(seconds).\(getpid())_\(number).\(hostname)"
            let tmpPath = tmp + "/" + name
            let newPath = new + "/" + name
            let fd = open(tmpPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0 {
                let code = errno
                if code == EEXIST && attempts < 5 { continue }
                throw MailError.io("cannot create", path: tmpPath, MailSystemError("open", errno: code))
            }
            do throws(MailError) {
                try writeAll(fd, bytes, path: tmpPath)
                if fsync(fd) != 0 {
                    throw MailError.io("cannot fsync", path: tmpPath, MailSystemError("fsync", errno: errno))
                }
                if close(fd) != 0 {
                    throw MailError.io("cannot close", path: tmpPath, MailSystemError("close", errno: errno))
                }
            } catch {
                _ = close(fd)
                _ = unlink(tmpPath)
                throw error
            }
            if link(tmpPath, newPath) == 0 {
                _ = unlink(tmpPath)
            } else {
                let code = errno
                if code == EEXIST && attempts < 5 {
                    _ = unlink(tmpPath)
                    continue
                }
                // File systems without hard links: rename (the name is unique, so nothing is overwritten).
                let noLinks = code == EPERM || code == EXDEV || code == ENOSYS || code == EOPNOTSUPP
                if !noLinks || rename(tmpPath, newPath) != 0 {
                    let failure =
                        noLinks ? MailSystemError("rename", errno: errno) : MailSystemError("link", errno: code)
                    _ = unlink(tmpPath)
                    throw MailError.io("cannot move the message into", path: new, failure)
                }
            }
            try syncDirectory(new)
            return name
        }
    }

    /// The Maildir and its `tmp/`, `new/`, `cur/` exist (made if missing) and a file can be created in `tmp/` and
    /// `new/` (made and removed again): root passes `access(W_OK)` even on a read-only file system.
    public func check() async throws {
        let directory = self.directory
        // Returns a value: a typed-throws closure returning Void crashes Swift 6.3.1's SIL lifetime pass.
        _ = try await DispatchQueue.blockingWork.run { () throws(MailError) -> Bool in
            for path in [directory, directory + "/tmp", directory + "/new", directory + "/cur"] {
                try Self.makeDirectory(path)
            }
            for folder in ["tmp", "new"] {
                let probe = "\(directory)/\(folder)/.portero-check.\(getpid())"
                let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
                guard fd >= 0 else {
                    throw MailError.io(
                        "cannot write in", path: directory + "/" + folder, MailSystemError("open", errno: errno))
                }
                close(fd)
                unlink(probe)
            }
            return true
        }
    }

    private static func makeDirectory(_ path: String) throws(MailError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw MailError.io("cannot create directory", path: path, MailSystemError("mkdir", errno: errno))
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(MailError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw MailError.io("cannot write", path: path, MailSystemError("write", errno: errno))
            }
            offset += written
        }
    }

    private static func syncDirectory(_ path: String) throws(MailError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MailError.io("cannot open directory", path: path, MailSystemError("open", errno: errno))
        }
        defer { _ = close(fd) }
        if fsync(fd) != 0 {
            throw MailError.io("cannot fsync directory", path: path, MailSystemError("fsync", errno: errno))
        }
    }
}
