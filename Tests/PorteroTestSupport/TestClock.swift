public import Foundation
public import PorteroCore
import Synchronization

/// A clock that moves only when a test moves it, so rules with a time in them (TTLs, lockouts, windows) are tested
/// without sleeping.
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_780_000_000)) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    /// The clock as the use cases take it.
    public var source: TimeSource { TimeSource { self.now } }
}
