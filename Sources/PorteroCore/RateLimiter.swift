public import Foundation

/// A sliding-window rate limit (SPEC §2 `rate.*`): at most `limit.count` accepted requests per key within any
/// `limit.window`. Refused requests are not counted, so a client that waits for `retryAfter` gets through.
///
/// Memory is bounded: each key keeps at most `limit.count` timestamps, and at most ``maximumKeys`` keys are
/// tracked; when a new key would exceed that, the key used least recently is dropped.
public actor RateLimiter {
    /// What one request was told.
    public struct Decision: Sendable, Equatable {
        /// Whether the request may proceed (it has been counted).
        public let allowed: Bool
        /// `X-RateLimit-Limit`: requests per window.
        public let limit: Int
        /// `X-RateLimit-Remaining`: requests left in the window after this one.
        public let remaining: Int
        /// `X-RateLimit-Reset`: whole seconds until the window frees a slot (0 when no slot is taken).
        /// For a refused request this is also `Retry-After`.
        public let reset: Int

        public init(allowed: Bool, limit: Int, remaining: Int, reset: Int) {
            self.allowed = allowed
            self.limit = limit
            self.remaining = remaining
            self.reset = reset
        }
    }

    /// One key's accepted requests, oldest first.
    private struct Window {
        var times: [Date]
        /// Position in the use order, for least-recently-used eviction.
        var stamp: UInt64
    }

    public nonisolated let limit: RateLimit
    /// The most keys tracked at once.
    public nonisolated let maximumKeys: Int
    private var windows: [String: Window] = [:]
    /// Keys in the order they were last used; entries whose stamp is stale are skipped (lazy deletion).
    private var useOrder: [(key: String, stamp: UInt64)] = []
    private var useOrderStart = 0
    private var nextStamp: UInt64 = 0

    /// - Parameters:
    ///   - limit: the rate; must not be ``RateLimit/off`` (an off limit needs no limiter).
    ///   - maximumKeys: the cap on tracked keys; by default 10,000, fewer for large counts so that at most about
    ///     a million timestamps are held.
    public init(limit: RateLimit, maximumKeys: Int? = nil) {
        self.limit = limit
        self.maximumKeys = max(1, maximumKeys ?? min(10_000, max(100, 1_000_000 / max(1, limit.count))))
    }

    /// The number of keys tracked now (for tests and metrics).
    public var trackedKeys: Int { windows.count }

    /// Counts a request for `key` at `now` if the window has room, and says what to tell the client.
    public func acquire(_ key: String, now: Date) -> Decision {
        let windowLength = TimeInterval(limit.window.seconds)
        let windowStart = now.addingTimeInterval(-windowLength)
        var window = windows[key] ?? Window(times: [], stamp: 0)
        if let stillInWindow = window.times.firstIndex(where: { $0 > windowStart }) {
            window.times.removeFirst(stillInWindow)
        } else {
            window.times.removeAll()
        }
        let allowed = window.times.count < limit.count
        if allowed {
            if windows[key] == nil { makeRoom() }
            // A clock that stepped back must not make the log unsorted.
            window.times.append(max(now, window.times.last ?? now))
        }
        let reset = window.times.first.map { Self.wholeSeconds(until: $0.addingTimeInterval(windowLength), from: now) }
        let decision = Decision(
            allowed: allowed,
            limit: limit.count,
            remaining: max(0, limit.count - window.times.count),
            reset: reset ?? 0
        )
        if window.times.isEmpty {
            windows[key] = nil
        } else {
            nextStamp += 1
            window.stamp = nextStamp
            windows[key] = window
            useOrder.append((key, nextStamp))
            compactUseOrderIfNeeded()
        }
        return decision
    }

    /// Seconds from `now` to `date`, rounded up, at least 1.
    private static func wholeSeconds(until date: Date, from now: Date) -> Int {
        max(1, Int(date.timeIntervalSince(now).rounded(.up)))
    }

    /// Makes room for one more key by dropping the least recently used ones (keys whose window has emptied come
    /// first in that order: they have not been used for a whole window).
    private func makeRoom() {
        while windows.count >= maximumKeys, useOrderStart < useOrder.count {
            let (key, stamp) = useOrder[useOrderStart]
            useOrderStart += 1
            if windows[key]?.stamp == stamp { windows[key] = nil }
        }
        compactUseOrderIfNeeded()
    }

    /// Keeps the use-order log proportional to the number of keys.
    private func compactUseOrderIfNeeded() {
        guard useOrder.count - useOrderStart > 2 * windows.count + 64 || useOrderStart > useOrder.count / 2 else {
            return
        }
        useOrder = useOrder[useOrderStart...].filter { windows[$0.key]?.stamp == $0.stamp }
        useOrderStart = 0
    }
}
