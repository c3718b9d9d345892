import Glibc

/// A real `AF_UNIX` datagram socket bound in a fresh temporary directory (or under an abstract name), standing in
/// for systemd's notification socket.
public final class DatagramListener {
    public let fd: Int32
    /// `/tmp/…/notify.sock` or `@name`, as it would appear in `NOTIFY_SOCKET`.
    public let path: String
    private let directory: TestDirectory?

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Binds a listener at a path in a new temporary directory, or at a random abstract name.
    public init(abstract: Bool = false) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SetupError(description: "socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8]
        if abstract {
            directory = nil
            path = "@portero-test-\(UInt64.random(in: 0...UInt64.max))"
            bytes = Array(path.utf8)
            bytes[0] = 0
        } else {
            let directory: TestDirectory
            do {
                directory = try TestDirectory("notify")
            } catch {
                close(fd)
                throw error
            }
            self.directory = directory
            path = directory.file("notify.sock")
            bytes = Array(path.utf8)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        let length = socklen_t(offset + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let error = errno
            close(fd)
            throw SetupError(description: "bind \(path): errno \(error)")
        }
    }

    deinit {
        close(fd)
        directory?.remove()
    }

    /// The next datagram without waiting, or `nil` if none is queued.
    public func receiveNow() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// Waits up to `timeout` for the next datagram, without blocking a thread of the cooperative pool.
    public func receive(timeout: Duration = .seconds(5)) async -> String? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let message = receiveNow() { return message }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}


/// Parses `KEY=VALUE` lines of an sd_notify message as systemd does.
public func notifyAssignments(_ message: String) -> [String: String] {
    var result: [String: String] = [:]
    for line in message.split(separator: "\n") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        result[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return result
}
