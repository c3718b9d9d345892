import Foundation
import Glibc

/// `admin_group`, resolved once at start-up.
enum AdminGroup {
    /// The gid of `admin_group` (a group name, or a number).
    ///
    /// - Throws: ``ConfigurationError`` (exit 78) when no such group exists, or when it is the overflow group
    ///   (`nogroup`, 65534): every peer whose ids are not mapped into the daemon's user namespace (a container's
    ///   user, say) appears with it, so admitting that group would admit them all.
    static func id(named name: String) throws -> UInt32 {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let gid: UInt32
        if getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil {
            gid = entry.gr_gid
        } else if let number = UInt32(name) {
            gid = number
        } else {
            throw ConfigurationError("invalid value for admin_group: no group named \(name)")
        }
        if gid == overflowGroupID() {
            throw ConfigurationError(
                "invalid value for admin_group: \(name) is gid \(gid), the group unmapped users appear as; "
                    + "make a group of its own (groupadd portero-admin)")
        }
        return gid
    }

    /// `/proc/sys/kernel/overflowgid` (65534 unless changed).
    static func overflowGroupID() -> UInt32 {
        let text = try? String(contentsOfFile: "/proc/sys/kernel/overflowgid", encoding: .utf8)
        return text.flatMap { UInt32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 65534
    }
}
