import CSystemd
import Glibc

/// Tells systemd about the service's state through libsystemd's `sd_notify(3)`.
///
/// Every message goes to the socket `NOTIFY_SOCKET` names at the time of the call; without it every method is a
/// no-op. Nothing here throws or traps: every method reports an ``Outcome`` that callers may ignore.
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

    /// How often systemd expects `WATCHDOG=1`, or `nil` when the watchdog is off, meant for another process, or
    /// `WATCHDOG_USEC` is malformed.
    public let watchdogInterval: Duration?

    /// Reads the watchdog settings (`WATCHDOG_USEC`, `WATCHDOG_PID`) with `sd_watchdog_enabled(3)`.
    ///
    /// - Important: `NOTIFY_SOCKET` is read by each send, not here, and the environment is left as it is.
    public init() {
        var microseconds: UInt64 = 0
        guard portero_sd_watchdog_enabled(&microseconds) > 0, let value = Int64(exactly: microseconds), value > 0
        else {
            self.watchdogInterval = nil
            return
        }
        self.watchdogInterval = .microseconds(value)
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
        guard !state.isEmpty, !state.utf8.contains(0) else { return .failed(errno: EINVAL) }
        let result = portero_sd_notify(state)
        if result > 0 { return .sent }
        if result == 0 { return .disabled }
        return .failed(errno: -result)
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

    /// The current `CLOCK_MONOTONIC` time in microseconds.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
