import Foundation
import Logging
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

/// The outbox use cases of the admin API against a MemoryStore with a test clock: what a listing shows, and which
/// messages `retry` queues again.
@Suite("Use cases: admin mail list and retry")
struct AdminMailTests {
    typealias Fixture = AdminServiceTests.Fixture

    func record(_ fixture: Fixture, _ record: AuthRecord) async throws {
        try await fixture.harness.store.write { $0.append(record) }
    }

    @Test func listShowsQueuedRetryingAndDeadButNotDelivered() async throws {
        let fixture = try await Fixture()
        try await fixture.harness.register("ana@example.com")
        var mail = await fixture.admin.mail()
        #expect(mail.map(\.state) == [.queued])
        let id = try #require(mail.first?.id)
        #expect(mail.first?.kind == "verify_email" && mail.first?.to == "ana@example.com")
        #expect(mail.first?.expiresAt != nil)

        let next = fixture.harness.clock.now.addingTimeInterval(30)
        try await record(fixture, .mailAttempted(.init(id: id, attempts: 1, nextAttemptAt: next, error: "refused")))
        mail = await fixture.admin.mail()
        #expect(mail.map(\.state) == [.retrying])
        #expect(mail.first?.attempts == 1 && mail.first?.nextAttemptAt == next && mail.first?.lastError == "refused")

        try await record(fixture, .mailDone(.init(id: id, delivered: false)))
        #expect(await fixture.admin.mail().map(\.state) == [.dead])
        try await fixture.harness.register("bea@example.com")
        let bea = try #require(await fixture.admin.mail().first { $0.to == "bea@example.com" })
        try await record(fixture, .mailDone(.init(id: bea.id, delivered: true)))
        #expect(await fixture.admin.mail().map(\.id) == [id], "delivered mail is not listed")
    }

    @Test func retryMakesARetryingMessageDueNowAndIsAudited() async throws {
        let fixture = try await Fixture()
        try await fixture.harness.register("ana@example.com")
        let id = try #require(await fixture.admin.mail().first?.id)
        let next = fixture.harness.clock.now.addingTimeInterval(60)
        try await record(fixture, .mailAttempted(.init(id: id, attempts: 3, nextAttemptAt: next, error: "down")))

        let retried = try await fixture.admin.retryMail(id: id, peer: fixture.peer)
        #expect(retried.state == .retrying && retried.nextAttemptAt == nil && retried.attempts == 3)
        let stored = try #require(await fixture.harness.store.state.outbox[id])
        #expect(stored.isPending && stored.nextAttemptAt == nil && stored.retriedAt == fixture.harness.clock.now)
        #expect(stored.code != nil, "a retried message keeps its code")
        let audit = try #require(await fixture.audits().last)
        #expect(audit.action == "mail_retried" && audit.mailID == id && audit.userID == stored.userID)
        #expect(audit.peerUID == 1000 && audit.peerPID == 4242 && audit.peerUser == "carla")
        let event = try #require(fixture.log.entries.last { $0.metadata["event"] == "admin.mail_retried" })
        #expect(event.metadata["mail_id"] == id.uuidString.lowercased())
        #expect(event.metadata["kind"] == "verify_email")
    }

    @Test func aDeadNoticeIsQueuedAgainWithANewLifetime() async throws {
        let fixture = try await Fixture()
        _ = try await fixture.harness.verifiedUser("ana@example.com")
        try await fixture.harness.changePasswordFromAnotherSession("ana@example.com")
        let notice = try #require(await fixture.harness.mails(to: "ana@example.com", kind: "password_changed").first)
        #expect(notice.code == nil && notice.expiresAt == nil)
        try await record(fixture, .mailDone(.init(id: notice.id, delivered: false)))
        #expect(
            await fixture.harness.store.state.outbox[notice.id]?.text == notice.text, "a dead notice keeps its text")

        fixture.harness.clock.advance(by: 3600)
        let retried = try await fixture.admin.retryMail(id: notice.id, peer: fixture.peer)
        #expect(retried.state == .queued)
        let stored = try #require(await fixture.harness.store.state.outbox[notice.id])
        #expect(stored.isPending && stored.retriedAt == fixture.harness.clock.now && stored.text == notice.text)
    }

    @Test func retryRefusesWhatCannotBeSent() async throws {
        let fixture = try await Fixture()
        func refusal(_ id: UUID) async -> PorteroError? {
            do {
                _ = try await fixture.admin.retryMail(id: id, peer: fixture.peer)
                return nil
            } catch {
                return error as? PorteroError
            }
        }
        #expect(await refusal(UUID())?.code == .notFound)

        // A code that expired, retrying or dead.
        try await fixture.harness.register("ana@example.com")
        let ana = try #require(await fixture.admin.mail().first { $0.to == "ana@example.com" })
        let expires = try #require(ana.expiresAt)
        fixture.harness.clock.advance(by: expires.timeIntervalSince(fixture.harness.clock.now) + 1)
        let expired = await refusal(ana.id)
        #expect(expired?.code == .mailNotRetryable)
        #expect(expired?.message.contains("expired") == true, "\(String(describing: expired))")
        try await record(fixture, .mailDone(.init(id: ana.id, delivered: false)))
        #expect(await refusal(ana.id)?.code == .mailNotRetryable)

        // Delivered; a withdrawn code (given up before it expired); an account deleted.
        try await fixture.harness.register("bea@example.com")
        let bea = try #require(await fixture.admin.mail().first { $0.to == "bea@example.com" })
        try await record(fixture, .mailDone(.init(id: bea.id, delivered: true)))
        #expect(await refusal(bea.id)?.message.contains("delivered") == true)
        try await fixture.harness.register("cai@example.com")
        let cai = try #require(await fixture.admin.mail().first { $0.to == "cai@example.com" })
        try await record(fixture, .mailDone(.init(id: cai.id, delivered: false)))
        #expect(await refusal(cai.id)?.message.contains("withdrawn") == true)
        try await fixture.harness.register("dee@example.com")
        let dee = try #require(await fixture.admin.mail().first { $0.to == "dee@example.com" })
        try await fixture.admin.delete(try fixture.ref("dee@example.com"), peer: fixture.peer)
        #expect(await refusal(dee.id)?.message.contains("deleted") == true)

        #expect(await fixture.audits().filter { $0.action == "mail_retried" }.isEmpty)
    }
}
