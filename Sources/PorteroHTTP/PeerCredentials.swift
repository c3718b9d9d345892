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
}
