import Foundation

/// One page of sessions, oldest first; `nextCursor` is nil on the last page.
public struct SessionPage: Sendable, Equatable {
    public var sessions: [AdminSession]
    public var nextCursor: String?
}

extension AdminService {
    /// Live sessions, of one user or of everyone, ordered by creation (then id), `limit` at a time (1 to
    /// ``UserQuery/maximumLimit``). The cursor names the last session of the page before by its position, so a
    /// session revoked in between does not break paging.
    public func sessions(of reference: UserReference?, limit: Int, cursor: String?) async throws(PorteroError)
        -> SessionPage
    {
        guard (1...UserQuery.maximumLimit).contains(limit) else {
            throw PorteroError.validation(["limit": "must be between 1 and \(UserQuery.maximumLimit)"])
        }
        let after = try cursor.map { cursor throws(PorteroError) in try Self.position(cursor) }
        func position(_ session: AdminSession) -> Position {
            (
                Int64((session.session.createdAt.timeIntervalSince1970 * 1000).rounded(.down)),
                session.session.id.uuidString.lowercased()
            )
        }
        var matching = try await sessions(of: reference).filter { session in
            after.map { Self.isOrdered($0, position(session)) } ?? true
        }
        matching.sort { Self.isOrdered(position($0), position($1)) }
        let page = Array(matching.prefix(limit))
        let next = matching.count > limit ? page.last.map { Self.cursor(position($0)) } : nil
        return SessionPage(sessions: page, nextCursor: next)
    }
}
