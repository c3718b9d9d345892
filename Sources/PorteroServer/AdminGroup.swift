import Glibc

/// `admin_group`, resolved once at start-up.
enum AdminGroup {
    /// The gid of `admin_group` (a group name, or a number).
    ///
    /// - Throws: ``ConfigurationError`` (exit 78) when no such group exists.
    static func id(named name: String) throws -> UInt32 {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        if getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil {
            return entry.gr_gid
        }
        if let number = UInt32(name) { return number }
        throw ConfigurationError("invalid value for admin_group: no group named \(name)")
    }
}
