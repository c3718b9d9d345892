import Foundation
import PorteroCore
import PorteroTestSupport
import Testing

@Suite("Use cases: admin session pages")
struct AdminSessionPagingTests {
    @Test func pagesOfSessionsFollowTheirCursorOldestFirst() async throws {
        let harness = try await AuthHarness()
        let admin = AdminService(store: harness.store, clock: harness.clock.source)
        _ = try await harness.verifiedUser("ada@example.com")
        for _ in 0..<4 {
            harness.clock.advance(by: 1)
            _ = try await harness.login("ada@example.com")
        }
        _ = try await harness.verifiedUser("bob@example.com")
        let all = try await admin.sessions(of: nil, limit: 500, cursor: nil)
        #expect(all.sessions.count == 6 && all.nextCursor == nil)

        var seen: [UUID] = []
        var cursor: String?
        repeat {
            let page = try await admin.sessions(of: nil, limit: 4, cursor: cursor)
            #expect(page.sessions.count <= 4)
            seen += page.sessions.map(\.session.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == all.sessions.map(\.session.id))

        let ada = try UserReference(parsing: "ada@example.com")
        let first = try await admin.sessions(of: ada, limit: 2, cursor: nil)
        let rest = try await admin.sessions(of: ada, limit: 500, cursor: first.nextCursor)
        #expect(first.sessions.count == 2 && rest.sessions.count == 3 && rest.nextCursor == nil)
        #expect(Set((first.sessions + rest.sessions).map(\.email)) == ["ada@example.com"])

        await #expect(throws: PorteroError.self) { _ = try await admin.sessions(of: nil, limit: 0, cursor: nil) }
        await #expect(throws: PorteroError.self) {
            _ = try await admin.sessions(of: nil, limit: 5, cursor: "not-a-cursor")
        }
    }
}
