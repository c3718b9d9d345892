public import Logging

import CSystemd
import Glibc

/// A listening socket handed over by systemd socket activation.
public struct ListenedSocket: Sendable, Hashable {
    /// The address family of a socket, as `getsockname(2)` reports it.
    public enum Family: Sendable, Hashable {
        /// `AF_UNIX`.
        case unix
        /// `AF_INET`.
        case inet
        /// `AF_INET6`.
        case inet6
        /// Any other family, or `AF_UNSPEC` (0) when the fd is not a socket.
        case other(Int32)
    }

    /// The file descriptor; it is marked `FD_CLOEXEC`.
    public let fd: Int32
    /// The `FileDescriptorName=` of the socket unit, or `unknown` when none was given.
    public let name: String
    /// The socket's address family.
    public let family: Family

    /// Creates a description of an already open socket.
    public init(fd: Int32, name: String, family: Family) {
        self.fd = fd
        self.name = name
        self.family = family
    }
}

/// Socket activation: the listening sockets systemd passes in `LISTEN_FDS`.
public enum ListenFDs {
    /// The name libsystemd reports for sockets that have no `FileDescriptorName=`.
    public static let unknownName = "unknown"

    /// Takes the sockets passed by systemd, through `sd_listen_fds_with_names(3)`.
    ///
    /// Reads `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES`, then unsets them so that child processes (such as
    /// sendmail) do not inherit them. Each fd is marked `FD_CLOEXEC`.
    ///
    /// - Parameter logger: Where a malformed activation environment is reported.
    /// - Returns: The sockets in the order systemd passed them; empty without socket activation.
    /// - Important: Call it once, early: afterwards the environment no longer describes the sockets.
    public static func take(logger: Logger? = nil) -> [ListenedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = portero_sd_listen_fds_with_names_unset(&names)
        defer { freeNames(names) }
        guard count > 0 else {
            if count < 0 {
                logger?.error(
                    "ignoring malformed socket activation environment",
                    metadata: ["event": "systemd.listen_fds_invalid", "errno": "\(-count)"]
                )
            }
            return []
        }
        let start = portero_sd_listen_fds_start()
        var fds: [Int32] = []
        var fdNames: [String] = []
        for index in 0..<Int(count) {
            fds.append(start + Int32(index))
            fdNames.append(names?[index].map { String(cString: $0) } ?? unknownName)
        }
        return sockets(fds: fds, names: fdNames)
    }

    /// Describes the given fds, pairing them with `names` (missing or empty names become `unknown`), and marks
    /// each one `FD_CLOEXEC`.
    static func sockets(fds: [Int32], names: [String]) -> [ListenedSocket] {
        fds.enumerated().map { index, fd in
            setCloseOnExec(fd)
            let name = index < names.count && !names[index].isEmpty ? names[index] : unknownName
            return ListenedSocket(fd: fd, name: name, family: family(of: fd))
        }
    }

    /// The address family of `fd`, from `getsockname(2)`; `.other(0)` when that fails.
    static func family(of fd: Int32) -> ListenedSocket.Family {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return .other(0) }
        switch Int32(storage.ss_family) {
        case AF_UNIX: return .unix
        case AF_INET: return .inet
        case AF_INET6: return .inet6
        case let other: return .other(other)
        }
    }

    static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0, flags & FD_CLOEXEC == 0 {
            _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC)
        }
    }

    private static func freeNames(_ names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard let names else { return }
        var index = 0
        while let name = names[index] {
            free(name)
            index += 1
        }
        free(names)
    }
}

extension [ListenedSocket] {
    /// The socket for the well-known name `http` (TCP) or `unix`, chosen by name and address family.
    ///
    /// A socket named `name` is taken when its family fits (`http`: `AF_INET`/`AF_INET6`, `unix`: `AF_UNIX`);
    /// otherwise the first *unnamed* socket of the matching family. Unnamed means `unknown` (no name passed) or
    /// systemd's default name, the socket unit's own name (`portero.socket`): `FileDescriptorName=` names every
    /// socket of a unit alike, so one unit listening on both a path and a port cannot name them apart, and the
    /// family tells them apart instead. A socket with any other name (`admin`) is never taken for these.
    public func socket(named name: String) -> ListenedSocket? {
        let families: [ListenedSocket.Family]
        switch name {
        case "http": families = [.inet, .inet6]
        case "unix": families = [.unix]
        default: return first { $0.name == name }
        }
        if let exact = first(where: { $0.name == name && families.contains($0.family) }) {
            return exact
        }
        return first { $0.isUnnamed && families.contains($0.family) }
    }
}

extension ListenedSocket {
    /// True when no `FileDescriptorName=` was given: the name is `unknown` or the socket unit's own name.
    var isUnnamed: Bool {
        name == ListenFDs.unknownName || name.hasSuffix(".socket")
    }
}
