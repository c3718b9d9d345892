public import Foundation

/// Where the use cases read the time: the system clock in the daemon, a hand-moved one in tests.
public struct TimeSource: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    /// The current time cut to whole milliseconds: what the log stores, so a recovered state equals the one the
    /// running daemon had.
    public func now() -> Date {
        Date(timeIntervalSince1970: (read().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    /// The system clock.
    public static let system = TimeSource { Date() }
}
