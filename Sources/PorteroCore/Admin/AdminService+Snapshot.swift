public import Foundation
import Logging

extension AdminService {
    /// Writes a snapshot now (`portero snapshot`), after an audit record of the request; returns the seq it covers.
    /// A store that cannot write answers 503.
    public func snapshot(peer: AdminPeer) async throws -> UInt64 {
        let seq = try await snapshot(peer: peer, action: "snapshot")
        Self.event(peer, "snapshot", "snapshot written at an admin's request", userID: nil, ["seq": "\(seq)"])
        return seq
    }

    /// The audit record of `action`, then a snapshot; the seq it covers.
    func snapshot(peer: AdminPeer, action: String) async throws -> UInt64 {
        let now = clock.now()
        try await write(peer.logger) { transaction in
            transaction.append(
                .adminAction(
                    .init(
                        action: action, userID: nil, peerUID: peer.uid, peerPID: peer.pid,
                        peerUser: peer.userName, at: now)))
        }
        do {
            return try await store.snapshot()
        } catch {
            peer.logger.error("snapshot failed", metadata: ["event": "store.unavailable", "error": "\(error)"])
            throw PorteroError.unavailable()
        }
    }
}
