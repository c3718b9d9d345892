public import Foundation

/// A sliding-window rate limit (SPEC §2 `rate.*`): at most `limit.count` accepted requests per key within any
/// `limit.window`. Refused requests are not counted, so a client that waits for `retryAfter` gets through.
///
/// Memory is bounded: each key keeps at most `limit.count` timestamps, and at most ``maximumKeys`` keys are
/// tracked. A key is forgotten only once its window has emptied, so a flood of other keys never resets a limited
/// key: when the table is full, keys whose window has run out go first, and if none has, the request that needs a
/// new key is refused (fail closed, ``Decision/tableFull``) until one runs out.
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
        /// Refused because the table of keys is full of live windows, not because this key's window is.
        public let tableFull: Bool
        /// Set on the first refusal for a full table in a minute: the one to log.
        public let reportFull: Bool

        public init(
            allowed: Bool, limit: Int, remaining: Int, reset: Int, tableFull: Bool = false, reportFull: Bool = false
        ) {
            self.allowed = allowed
            self.limit = limit
            self.remaining = remaining
            self.reset = reset
            self.tableFull = tableFull
            self.reportFull = reportFull
        }
    }

    /// One key's accepted requests, oldest first.
    private struct Window {
        var times: [Date]
        /// Position in the order of last accepted requests.
        var stamp: UInt64
    }

    public nonisolated let limit: RateLimit
    /// The most keys tracked at once.
    public nonisolated let maximumKeys: Int
    private var windows: [String: Window] = [:]
    /// Keys in the order of their last accepted request (so the first live entry's window runs out first); entries
    /// whose stamp is stale are skipped (lazy deletion).
    private var useOrder: [(key: String, stamp: UInt64)] = []
    private var useOrderStart = 0
    private var nextStamp: UInt64 = 0
    /// When a full table was last reported.
    private var lastFullReport: Date?

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
        if windows[key] == nil, !makeRoom(now: now) { return full(now: now) }
        let allowed = window.times.count < limit.count
        if allowed {
            // A clock that stepped back must not make the log unsorted.
            window.times.append(max(now, window.times.last ?? now))
            nextStamp += 1
            window.stamp = nextStamp
            useOrder.append((key, nextStamp))
        }
        let reset = window.times.first.map { Self.wholeSeconds(until: $0.addingTimeInterval(windowLength), from: now) }
        let decision = Decision(
            allowed: allowed,
            limit: limit.count,
            remaining: max(0, limit.count - window.times.count),
            reset: reset ?? 0
        )
        windows[key] = window.times.isEmpty ? nil : window
        compactUseOrderIfNeeded()
        return decision
    }

    /// Seconds from `now` to `date`, rounded up, at least 1.
    private static func wholeSeconds(until date: Date, from now: Date) -> Int {
        max(1, Int(date.timeIntervalSince(now).rounded(.up)))
    }

    /// Makes room for one more key by dropping keys whose window has run out, oldest first. False when the table
    /// is full of live windows.
    private func makeRoom(now: Date) -> Bool {
        let windowStart = now.addingTimeInterval(-TimeInterval(limit.window.seconds))
        while windows.count >= maximumKeys, useOrderStart < useOrder.count {
            let (key, stamp) = useOrder[useOrderStart]
            guard let window = windows[key], window.stamp == stamp else {
                useOrderStart += 1
                continue
            }
            // The oldest live entry: if its newest request is still in the window, so is every other key's.
            guard let newest = window.times.last, newest <= windowStart else { break }
            windows[key] = nil
            useOrderStart += 1
        }
        compactUseOrderIfNeeded()
        return windows.count < maximumKeys
    }

    /// The refusal of a request that needs a new key while the table is full: retry once the oldest window runs out.
    private func full(now: Date) -> Decision {
        let windowLength = TimeInterval(limit.window.seconds)
        let oldest = useOrder[useOrderStart...].first { windows[$0.key]?.stamp == $0.stamp }
            .flatMap { windows[$0.key]?.times.last }
        let reset = oldest.map { Self.wholeSeconds(until: $0.addingTimeInterval(windowLength), from: now) } ?? 1
        // Requests carry the time they arrived, so concurrent ones reach the actor a little out of order: only a
        // minute apart either way (a clock set back too) counts as another minute.
        let report = lastFullReport.map { abs(now.timeIntervalSince($0)) >= 60 } ?? true
        if report { lastFullReport = now }
        return Decision(
            allowed: false, limit: limit.count, remaining: 0, reset: reset, tableFull: true, reportFull: report)
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
