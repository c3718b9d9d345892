import Glibc

/// Who may use the admin API (SPEC §3): root, the daemon's own user, and members of `admin_group` — decided by the
/// peer's `SO_PEERCRED` on the Unix socket, never by an address.
public struct AdminAccess: Sendable {
    /// Always allowed: root and the uid the daemon runs as.
    public let allowedUIDs: Set<UInt32>
    /// The gid of `admin_group`, if one is configured.
    public let groupID: UInt32?

    /// - Parameters:
    ///   - daemonUID: the daemon's own uid (`getuid()`).
    ///   - groupID: the resolved `admin_group`.
    public init(daemonUID: UInt32, groupID: UInt32?) {
        self.allowedUIDs = [0, daemonUID]
        self.groupID = groupID
    }

    /// True when `peer` may use the admin API: an allowed uid, `admin_group` as its primary group, or the group
    /// among the supplementary groups the user database gives the peer's user.
    public func allows(_ peer: PeerCredentials) -> Bool {
        if allowedUIDs.contains(peer.uid) { return true }
        guard let groupID else { return false }
        if peer.gid == groupID { return true }
        return Self.supplementaryGroups(uid: peer.uid, primary: peer.gid).contains(groupID)
    }

    /// The groups of the user `uid` (getpwuid_r + getgrouplist); empty when the uid has no entry.
    static func supplementaryGroups(uid: UInt32, primary: UInt32) -> [UInt32] {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name
        else { return [] }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, primary, &groups, &count) >= 0 else { return [] }
        }
        return Array(groups.prefix(Int(count)))
    }

    /// The name the user database gives `uid`, or nil when it has none.
    public static func userName(uid: UInt32) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name
        else { return nil }
        return String(cString: name)
    }
}
