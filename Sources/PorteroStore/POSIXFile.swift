internal import CoreFoundation
import Foundation
import Glibc

/// Text for an errno value: `No space left on device (errno 28)`.
enum POSIXErrorText {
    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return "\(String(cString: text)) (errno \(code))"
    }
}

/// Thin wrappers over the system calls the store makes; each returns or throws with the errno it saw.
///
/// - Important: These block. Call them only from the store's own dispatch queues (or from the offline checker),
///   never from the Swift cooperative pool.
enum POSIXFile {
    /// The outcome of a call that can fail: nil on success, else the errno.
    typealias Failure = Int32?

    /// Opens `path` without following a symlink at its last component (`O_NOFOLLOW`: a planted link is `ELOOP`),
    /// except for directories, where the data directory itself may be a link (systemd's `DynamicUser` makes one).
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o600) -> (fd: Int32, errno: Int32) {
        let noFollow = flags & O_DIRECTORY != 0 ? 0 : O_NOFOLLOW
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC | noFollow, mode)
            if fd >= 0 { return (fd, 0) }
            if errno != EINTR { return (-1, errno) }
        }
    }

    /// Opens (or creates, mode 0600 whatever the umask) `path`; throws `StoreError.io` on failure.
    static func openOrThrow(_ path: String, flags: Int32, what: String) throws -> Int32 {
        let (fd, code) = open(path, flags: flags)
        guard fd >= 0 else { throw StoreError.io("cannot open \(what)", path: path, errno: code) }
        if flags & O_CREAT != 0, fchmod(fd, 0o600) != 0 {
            let code = errno
            Glibc.close(fd)
            throw StoreError.io("cannot set mode 0600 on", path: path, errno: code)
        }
        return fd
    }

    /// One `write(2)` of all of `bytes`: nil when every byte was written, else a reason (errno or short count).
    ///
    /// A short write is a failure, not something to retry: the log never writes to a file after a partial write.
    static func writeOnce(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        if bytes.isEmpty { return nil }
        while true {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written == bytes.count { return nil }
            if written >= 0 { return "short write (\(written) of \(bytes.count) bytes)" }
            let code = errno
            if code == EINTR { continue }
            return POSIXErrorText.describe(code)
        }
    }

    /// Writes all of `bytes`, continuing after short writes (for files that are fsynced and renamed as a whole).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Failure {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// Writes all of `bytes`, continuing after short writes.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Failure {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written > 0 {
                offset += written
            } else if written == 0 {
                return ENOSPC
            } else if errno != EINTR {
                return errno
            }
        }
        return nil
    }

    static func dataSync(_ fd: Int32) -> Failure {
        fdatasync(fd) == 0 ? nil : errno
    }

    static func sync(_ fd: Int32) -> Failure {
        fsync(fd) == 0 ? nil : errno
    }

    /// fsyncs a directory, making creations, renames and removals in it durable.
    static func syncDirectory(_ path: String) -> Failure {
        let (fd, code) = open(path, flags: O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return code }
        defer { Glibc.close(fd) }
        return fsync(fd) == 0 ? nil : errno
    }

    static func syncDirectoryOrThrow(_ path: String) throws {
        if let code = syncDirectory(path) {
            throw StoreError.io("cannot fsync directory", path: path, errno: code)
        }
    }

    static func close(_ fd: Int32) {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Reads a whole file.
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try openOrThrow(path, flags: O_RDONLY, what: "file")
        defer { Glibc.close(fd) }
        var info = Glibc.stat()
        var bytes: [UInt8] = []
        if fstat(fd, &info) == 0, info.st_size > 0 {
            bytes.reserveCapacity(Int(info.st_size))
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                return bytes
            } else if errno != EINTR {
                throw StoreError.io("cannot read", path: path, errno: errno)
            }
        }
    }

    /// Writes `bytes` to a new file at `path` (mode 0600), fsyncs it and closes it. The file is created with
    /// `O_EXCL`: whatever is at `path` (a leftover, a planted symlink) is unlinked first when `replacing`, and
    /// otherwise makes this fail.
    static func writeNewFile(_ path: String, _ bytes: [UInt8], what: String, replacing: Bool = true) throws {
        if replacing, let code = remove(path) {
            throw StoreError.io("cannot remove the old \(what)", path: path, errno: code)
        }
        let fd = try openOrThrow(path, flags: O_WRONLY | O_CREAT | O_EXCL, what: what)
        defer { Glibc.close(fd) }
        if let code = writeAll(fd, bytes) {
            throw StoreError.io("cannot write \(what)", path: path, errno: code)
        }
        if let code = sync(fd) {
            throw StoreError.io("cannot fsync \(what)", path: path, errno: code)
        }
    }

    /// Cuts a file to `length` bytes and fsyncs it.
    static func truncate(_ path: String, to length: Int) throws {
        let fd = try openOrThrow(path, flags: O_WRONLY, what: "segment")
        defer { Glibc.close(fd) }
        guard ftruncate(fd, off_t(length)) == 0 else {
            throw StoreError.io("cannot truncate", path: path, errno: errno)
        }
        if let code = sync(fd) {
            throw StoreError.io("cannot fsync", path: path, errno: code)
        }
    }

    static func remove(_ path: String) -> Failure {
        unlink(path) == 0 || errno == ENOENT ? nil : errno
    }

    static func rename(_ from: String, _ to: String) -> Failure {
        Glibc.rename(from, to) == 0 ? nil : errno
    }

    /// Names in a directory, without `.` and `..`.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            throw StoreError.io("cannot list directory", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        return names
    }

    /// Creates `path` (and missing parents) and makes sure `path` itself is mode 0700.
    static func prepareDirectory(_ path: String) throws {
        var info = Glibc.stat()
        if stat(path, &info) != 0 {
            guard errno == ENOENT else { throw StoreError.io("cannot stat", path: path, errno: errno) }
            let parent = parentDirectory(of: path)
            if parent != path, stat(parent, &info) != 0 {
                try prepareParents(parent)
            }
            if mkdir(path, 0o700) != 0, errno != EEXIST {
                throw StoreError.io("cannot create data directory", path: path, errno: errno)
            }
        } else if info.st_mode & S_IFMT != S_IFDIR {
            throw StoreError(.io, "data directory \(path) exists and is not a directory")
        }
        if chmod(path, 0o700) != 0 {
            throw StoreError.io("cannot set mode 0700 on data directory", path: path, errno: errno)
        }
    }

    private static func prepareParents(_ path: String) throws {
        var info = Glibc.stat()
        if stat(path, &info) == 0 { return }
        let parent = parentDirectory(of: path)
        if parent != path {
            try prepareParents(parent)
        }
        if mkdir(path, 0o755) != 0, errno != EEXIST {
            throw StoreError.io("cannot create directory", path: path, errno: errno)
        }
    }

    static func parentDirectory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Tries to take an exclusive `flock` without waiting: true if taken, false if another holder has it.
    static func tryLock(_ fd: Int32) throws -> Bool {
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            switch errno {
            case EWOULDBLOCK: return false
            case EINTR: continue
            default: throw StoreError(.io, "cannot lock: \(POSIXErrorText.describe(errno))")
            }
        }
    }

    /// The permission bits of `path` itself (a symlink is not followed).
    static func mode(of path: String) -> mode_t? {
        var info = Glibc.stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    /// Whether anything — a file, a directory, a dangling symlink — is at `path` (`lstat`).
    static func exists(_ path: String) -> Bool {
        var info = Glibc.stat()
        return lstat(path, &info) == 0
    }
}
