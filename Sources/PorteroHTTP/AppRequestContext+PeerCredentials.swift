import Glibc
import NIOCore

extension AppRequestContext {
    /// The credentials of the process at the other end of a Unix-socket connection (`SO_PEERCRED`: uid, gid and
    /// pid as of its `connect(2)`), read from the connection's own socket; nil over TCP or when unreadable.
    ///
    /// The admin API decides on these, never on a network address.
    public func peerCredentials() async -> PeerCredentials? {
        guard isUnixSocket, let provider = channel as? any SocketOptionProvider else { return nil }
        do {
            // The kernel's `struct ucred` is three 32-bit fields, pid, uid, gid (glibc declares it only under
            // _GNU_SOURCE); a tuple of them has the same 12-byte layout, and NIO passes its size to getsockopt.
            let credentials: (pid: Int32, uid: UInt32, gid: UInt32) = try await provider.unsafeGetSocketOption(
                level: .socket,
                name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)
            ).get()
            return PeerCredentials(uid: credentials.uid, gid: credentials.gid, pid: credentials.pid)
        } catch {
            return nil
        }
    }
}
