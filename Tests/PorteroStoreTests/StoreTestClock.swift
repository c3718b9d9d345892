import Foundation
import Synchronization

/// A clock tests move by hand.
final class StoreTestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000.123)) {
        current = Mutex(start)
    }

    /// A `now` closure for a store.
    var now: @Sendable () -> Date {
        { [self] in current.withLock { $0 } }
    }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
