import Foundation
import PorteroCore
import Testing

@Suite("Rate limiter and login gate")
struct RateLimiterTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("sliding window: count per window, remaining, reset until the oldest slot frees, refusals not counted")
    func slidingWindow() async {
        let limiter = RateLimiter(limit: RateLimit(count: 3, window: TimeSpan(seconds: 60)))
        let first = await limiter.acquire("a", now: start)
        #expect(first == .init(allowed: true, limit: 3, remaining: 2, reset: 60))
        #expect(await limiter.acquire("a", now: start.addingTimeInterval(10)).remaining == 1)
        let third = await limiter.acquire("a", now: start.addingTimeInterval(20))
        #expect(third == .init(allowed: true, limit: 3, remaining: 0, reset: 40))
        let refused = await limiter.acquire("a", now: start.addingTimeInterval(30))
        #expect(refused == .init(allowed: false, limit: 3, remaining: 0, reset: 30))
        // Another key has its own window.
        #expect(await limiter.acquire("b", now: start.addingTimeInterval(30)).allowed)
        // The first slot frees at 60 s exactly, not before.
        #expect(await !limiter.acquire("a", now: start.addingTimeInterval(59.5)).allowed)
        let freed = await limiter.acquire("a", now: start.addingTimeInterval(60))
        #expect(freed == .init(allowed: true, limit: 3, remaining: 0, reset: 10))
        // Fractions round up, never to 0 while a slot is taken.
        #expect(await limiter.acquire("a", now: start.addingTimeInterval(69.9)).reset == 1)
        #expect(await limiter.acquire("a", now: start.addingTimeInterval(200)).remaining == 2)
    }

    @Test(
        "memory is bounded, and a flood of other keys never resets a limited key: full means 429, logged once a minute")
    func boundedKeysFailClosed() async {
        let limiter = RateLimiter(limit: RateLimit(count: 1, window: TimeSpan(seconds: 3600)), maximumKeys: 100)
        #expect(await limiter.acquire("victim", now: start).allowed)
        var refusedForFull = 0
        var reports = 0
        for index in 0..<10_000 {
            let now = start.addingTimeInterval(Double(index) / 100)
            let decision = await limiter.acquire("flood-\(index)", now: now)
            if decision.tableFull {
                #expect(!decision.allowed && decision.reset > 0)
                refusedForFull += 1
            }
            if decision.reportFull { reports += 1 }
            #expect(await limiter.trackedKeys <= 100)
        }
        #expect(refusedForFull == 10_000 - 99)
        // 100 s of flood: the first refusal and one a minute after.
        #expect(reports == 2)
        // Concurrent requests reach the actor out of order: one that arrived a little earlier is not a new minute.
        // (the last report was at 60 s)
        let late = await limiter.acquire("flood-late", now: start.addingTimeInterval(59))
        #expect(late.tableFull && !late.reportFull)
        // The victim's window is intact: still limited, not reset by the flood.
        let victim = await limiter.acquire("victim", now: start.addingTimeInterval(200))
        #expect(!victim.allowed && !victim.tableFull)
        // Once windows run out, expired keys make room first, oldest first.
        let later = start.addingTimeInterval(3600.5)
        #expect(await limiter.acquire("newcomer", now: later).allowed)
        #expect(await limiter.acquire("victim", now: later).allowed)
        #expect(await limiter.trackedKeys <= 100)
        #expect(RateLimiter(limit: RateLimit(count: 1_000_000, window: TimeSpan(seconds: 1))).maximumKeys == 100)
        #expect(RateLimiter(limit: RateLimit(count: 5, window: TimeSpan(seconds: 1))).maximumKeys == 10_000)
    }

    @Test("a clock that steps back does not reopen the window")
    func clockStepsBack() async {
        let limiter = RateLimiter(limit: RateLimit(count: 2, window: TimeSpan(seconds: 60)))
        #expect(await limiter.acquire("a", now: start).allowed)
        #expect(await limiter.acquire("a", now: start.addingTimeInterval(-30)).allowed)
        #expect(await !limiter.acquire("a", now: start.addingTimeInterval(-20)).allowed)
    }

    @Test("login gate: recorded failures + in flight never exceed the maximum")
    func gateAdmitsUpToMaximum() async {
        let gate = LoginAttemptGate()
        var admitted: [LoginAttemptGate.Ticket] = []
        for _ in 0..<20 {
            let ticket = await gate.admit(await gate.reserve("k"), recordedFailures: 2, maximumFailures: 5)
            if ticket.admitted { admitted.append(ticket) }
        }
        #expect(admitted.count == 3)
        for ticket in admitted { await gate.release(ticket, failed: true) }
        #expect(await gate.trackedKeys == 0)
        // Other keys are independent; a withdrawn reservation leaves nothing behind.
        #expect(await gate.admit(await gate.reserve("other"), recordedFailures: 0, maximumFailures: 1).admitted)
        let withdrawn = await gate.reserve("third")
        await gate.release(withdrawn, failed: false)
        #expect(await gate.trackedKeys == 1)
    }

    @Test("login gate: a failure that finished after the reservation counts even if the read missed it")
    func gateClosesStaleReadGap() async {
        let gate = LoginAttemptGate()
        let first = await gate.admit(await gate.reserve("k"), recordedFailures: 3, maximumFailures: 5)
        #expect(first.admitted)
        // A second attempt reserves, then reads the store (4 failures would be there only after `first` wrote).
        let second = await gate.reserve("k")
        await gate.release(first, failed: true)
        // Its read predates the write: it says 3, yet the gate knows one more failure finished since.
        let decided = await gate.admit(second, recordedFailures: 3, maximumFailures: 5)
        #expect(decided.admitted)
        // A third reads after `first` wrote (4 recorded) while `second` is in flight: 4 + 1 reaches 5.
        let third = await gate.reserve("k")
        #expect(await !gate.admit(third, recordedFailures: 4, maximumFailures: 5).admitted)
        await gate.release(decided, failed: true)
        #expect(await gate.trackedKeys == 0)
    }
}
