import Glibc

/// Tells systemd about the service's state through `NOTIFY_SOCKET`, as `sd_notify(3)` does.
///
/// Each call opens an `AF_UNIX` datagram socket, sends one message and closes it. Socket paths starting with `/`
/// and abstract names starting with `@` are supported, as in libsystemd. Nothing here throws or traps: every
/// method reports an ``Outcome`` that callers may ignore.
///
/// ```swift
/// let notifier = Notifier()
/// notifier.ready(status: "serving 12 users on 127.0.0.1:5500")
/// ```
public struct Notifier: Sendable {
    /// What became of one notification.
    public enum Outcome: Sendable, Hashable {
        /// The message was handed to the notification socket.
        case sent
        /// No notification socket is configured (not started by systemd as `Type=notify`).
        case disabled
        /// Sending failed with this `errno`; `EINVAL` for a malformed socket address or message.
        case failed(errno: Int32)
    }

    /// The notification socket (`/path` or `@abstract`), or `nil` when notifications are off.
    public let socketPath: String?

    /// How often systemd expects `WATCHDOG=1`, or `nil` when the watchdog is off or meant for another process.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the process environment.
    ///
    /// Without `NOTIFY_SOCKET` every notification is a no-op reporting ``Outcome/disabled``.
    public init() {
        let names = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]
        self.init(environment: ProcessEnvironment.values(of: names))
    }

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the given environment.
    ///
    /// - Parameters:
    ///   - environment: Environment variables, such as `ProcessInfo.processInfo.environment`.
    ///   - processID: The pid `WATCHDOG_PID` must name for the watchdog to apply; `nil` means this process.
    public init(environment: [String: String], processID: Int32? = nil) {
        self.socketPath = environment["NOTIFY_SOCKET"]
        self.watchdogInterval = Self.watchdogInterval(
            microseconds: environment["WATCHDOG_USEC"],
            pid: environment["WATCHDOG_PID"],
            processID: processID ?? getpid()
        )
    }

    /// Sends to the given socket instead of reading the environment (for tests and embedding).
    ///
    /// - Parameters:
    ///   - socketPath: A filesystem path (`/run/…`) or an abstract name (`@name`); `nil` disables notifications.
    ///   - watchdogInterval: The interval ``WatchdogService`` should honour, if any.
    public init(socketPath: String?, watchdogInterval: Duration? = nil) {
        self.socketPath = socketPath
        self.watchdogInterval = watchdogInterval
    }

    /// Sends `READY=1`, with a `STATUS=` line when `status` is given.
    @discardableResult
    public func ready(status: String? = nil) -> Outcome {
        send(Self.withStatus("READY=1", status))
    }

    /// Sends `STATUS=` with a human-readable line; newlines and other control characters become spaces.
    @discardableResult
    public func status(_ text: String) -> Outcome {
        send("STATUS=" + Self.singleLine(text))
    }

    /// Sends `WATCHDOG=1`, telling systemd the service is alive.
    @discardableResult
    public func watchdog() -> Outcome {
        send("WATCHDOG=1")
    }

    /// Sends `RELOADING=1` with `MONOTONIC_USEC=` (the `CLOCK_MONOTONIC` time in microseconds), as
    /// `Type=notify-reload` requires. Send ``ready(status:)`` when the reload is done.
    @discardableResult
    public func reloading(status: String? = nil) -> Outcome {
        send(Self.withStatus("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())", status))
    }

    /// Sends `STOPPING=1`, telling systemd the service is shutting down.
    @discardableResult
    public func stopping(status: String? = nil) -> Outcome {
        send(Self.withStatus("STOPPING=1", status))
    }

    /// Sends a raw notification of newline-separated `KEY=VALUE` assignments.
    ///
    /// - Returns: ``Outcome/failed(errno:)`` with `EINVAL` if `state` is empty or contains a NUL byte.
    @discardableResult
    public func send(_ state: String) -> Outcome {
        guard let socketPath else { return .disabled }
        let message = Array(state.utf8)
        guard !message.isEmpty, !message.contains(0) else { return .failed(errno: EINVAL) }
        return DatagramSender.send(message, to: socketPath)
    }

    // MARK: - Pieces

    static func withStatus(_ state: String, _ status: String?) -> String {
        guard let status else { return state }
        return state + "\nSTATUS=" + singleLine(status)
    }

    /// Replaces control characters (CR, LF, NUL, …) by spaces so a value cannot start a new assignment.
    static func singleLine(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            result.append(scalar.properties.generalCategory == .control ? " " : scalar)
        }
        return String(result)
    }

    /// Parses the watchdog settings as `sd_watchdog_enabled(3)` does.
    static func watchdogInterval(microseconds: String?, pid: String?, processID: Int32) -> Duration? {
        guard let microseconds, let value = Int64(microseconds), value > 0 else { return nil }
        if let pid {
            guard let owner = Int32(pid), owner > 0, owner == processID else { return nil }
        }
        return .microseconds(value)
    }

    /// The current `CLOCK_MONOTONIC` time in microseconds.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

/// Sends single datagrams to `AF_UNIX` sockets named like `NOTIFY_SOCKET`.
enum DatagramSender {
    /// How long a send may wait for room in the receiver's queue before giving up.
    static let sendTimeoutSeconds = 2

    /// Sends `message` as one datagram to `path` (`/path` or `@abstract`).
    static func send(_ message: [UInt8], to path: String) -> Notifier.Outcome {
        guard let (address, length) = socketAddress(path) else { return .failed(errno: EINVAL) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failed(errno: errno) }
        defer { close(fd) }

        var timeout = timeval(tv_sec: sendTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        while true {
            let sent = message.withUnsafeBytes { bytes in
                withUnsafePointer(to: address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                        sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                    }
                }
            }
            if sent >= 0 { return .sent }
            let error = errno
            if error != EINTR { return .failed(errno: error) }
        }
    }

    /// Builds the address for `/path` (NUL-terminated) or `@name` (abstract: a leading NUL, exact length).
    static func socketAddress(_ path: String) -> (sockaddr_un, socklen_t)? {
        var bytes = Array(path.utf8)
        guard bytes.count > 1, let first = bytes.first, !bytes.contains(0) else { return nil }
        let isAbstract = first == UInt8(ascii: "@")
        guard isAbstract || first == UInt8(ascii: "/") else { return nil }
        if isAbstract { bytes[0] = 0 }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A path needs room for its terminating NUL; an abstract name is counted exactly.
        guard bytes.count <= (isAbstract ? capacity : capacity - 1) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        let length = pathOffset + bytes.count + (isAbstract ? 0 : 1)
        return (address, socklen_t(length))
    }
}

/// Reads variables of the process environment without Foundation.
enum ProcessEnvironment {
    /// The values of those of `names` that are set.
    static func values(of names: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for name in names {
            if let value = getenv(name) {
                result[name] = String(cString: value)
            }
        }
        return result
    }
}
