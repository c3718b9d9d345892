import PorteroMail
import Testing

@Suite("Outbox retry policy")
struct OutboxPolicyTests {
    @Test("the wait doubles from the first delay, is capped, never exceeds a minute, and is jittered in its upper half")
    func backoff() {
        let policy = OutboxWorker.Policy(firstDelay: .seconds(1), maxDelay: .seconds(60))
        #expect(policy.delay(afterAttempts: 1, random: 1) == .seconds(1))
        #expect(policy.delay(afterAttempts: 1, random: 0) == .milliseconds(500))
        #expect(policy.delay(afterAttempts: 4, random: 1) == .seconds(8))
        #expect(policy.delay(afterAttempts: 7, random: 1) == .seconds(60))
        #expect(policy.delay(afterAttempts: 500, random: 1) == .seconds(60))
        #expect(policy.delay(afterAttempts: 500, random: 0) == .seconds(30))
        for attempts in 1...40 {
            let wait = policy.delay(afterAttempts: attempts)
            #expect(wait > .zero && wait <= .seconds(60))
        }
        // A configured cap above a minute is held to a minute.
        #expect(OutboxWorker.Policy(maxDelay: .seconds(600)).delay(afterAttempts: 30, random: 1) == .seconds(60))
        #expect(OutboxWorker.Policy(maxDelay: .seconds(2)).delay(afterAttempts: 30, random: 1) == .seconds(2))
    }
}
