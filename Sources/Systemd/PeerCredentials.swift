import CSystemd

/// The process at the other end of a connected `AF_UNIX` socket, as the kernel recorded it (`SO_PEERCRED`).
public struct PeerCredentials: Sendable, Hashable {
    /// The peer's effective user id.
    public let uid: UInt32
    /// The peer's effective group id.
    public let gid: UInt32
    /// The peer's process id; 0 when the peer lives in a pid namespace this process cannot see.
    public let pid: Int32

    /// Creates credentials from known values.
    public init(uid: UInt32, gid: UInt32, pid: Int32) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }

    /// The credentials of the peer of `fd`, or `nil` if `fd` is not a connected `AF_UNIX` socket.
    ///
    /// The values are those of the peer when it called `connect(2)` or `socketpair(2)`.
    public static func of(fd: Int32) -> PeerCredentials? {
        var credentials = portero_ucred()
        guard portero_peer_credentials(fd, &credentials) == 0 else { return nil }
        return PeerCredentials(uid: credentials.uid, gid: credentials.gid, pid: credentials.pid)
    }
}
