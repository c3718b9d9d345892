import Foundation
import PorteroCore
import Testing

/// How the outbox lives in the state: attempts recorded, finished mail scrubbed at once and gone at the snapshot.
@Suite("Outbox state")
struct OutboxStateTests {
    static let queued = Date(timeIntervalSince1970: 1_800_000_000)

    static func mail() -> OutboxMail {
        OutboxMail(
            id: UUID(), to: "a@example.com", subject: "Code", text: "Your code is 123456", kind: "verify_email",
            code: "123456", userID: UUID(), queuedAt: queued, expiresAt: queued.addingTimeInterval(900))
    }

    @Test("an attempt is counted, a finished message loses its code and text, and compaction drops it")
    func lifecycle() throws {
        var state = AuthState()
        let mail = Self.mail()
        state.apply(.mailQueued(mail), seq: 1, at: Self.queued)
        let next = Self.queued.addingTimeInterval(2)
        state.apply(
            .mailAttempted(.init(id: mail.id, attempts: 1, nextAttemptAt: next, error: "refused")), seq: 2, at: next)
        #expect(state.outbox[mail.id]?.attempts == 1)
        #expect(state.outbox[mail.id]?.nextAttemptAt == next)
        #expect(state.outbox[mail.id]?.lastError == "refused")
        #expect(state.compacted(now: next).outbox[mail.id] == state.outbox[mail.id])

        state.apply(.mailDone(.init(id: mail.id, delivered: false)), seq: 3, at: next)
        let dead = try #require(state.outbox[mail.id])
        #expect(dead.outcome == .dead && !dead.isPending)
        #expect(dead.code == nil && dead.text.isEmpty)
        // A late record for a finished message changes nothing.
        state.apply(.mailAttempted(.init(id: mail.id, attempts: 9, nextAttemptAt: next, error: "x")), seq: 4, at: next)
        state.apply(.mailDone(.init(id: mail.id, delivered: true)), seq: 5, at: next)
        #expect(state.outbox[mail.id] == dead)
        #expect(state.compacted(now: next).outbox.isEmpty)
    }

    @Test("records round-trip, and a mail.queued written before attempts existed still reads")
    func coding() throws {
        let mail = Self.mail()
        let attempt = AuthRecord.mailAttempted(
            .init(id: mail.id, attempts: 3, nextAttemptAt: Self.queued, error: "SMTP server answered RCPT TO with 550"))
        for record in [AuthRecord.mailQueued(mail), attempt] {
            #expect(try AuthRecord(type: record.type, data: record.encodeData()) == record)
        }
        let old =
            #"{"id":"\#(mail.id.uuidString)","kind":"verify_email","queued_at":"2027-01-15T08:00:00.000Z","subject":"S","text":"T","to":"a@example.com"}"#
        let decoded = try AuthRecord(type: "mail.queued", data: Array(old.utf8))
        guard case .mailQueued(let read) = decoded else {
            Issue.record("not a mail.queued")
            return
        }
        #expect(read.attempts == 0 && read.expiresAt == nil && read.outcome == nil && read.isPending)
    }
}
