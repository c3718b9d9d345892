public import Configuration
import Foundation

/// The browser side of forward-auth: the `portero_session` cookie and the sign-in page's return addresses.
public struct BrowserSessionConfiguration: Sendable, Equatable {
    /// `cookie.enabled`: login, verify-email and the sign-in page set `portero_session`, `/verify` accepts it and
    /// `/signin` and `/signout` are served.
    public var cookieEnabled: Bool
    /// `cookie.domain`: the cookie's `Domain` attribute; nil = host only.
    public var cookieDomain: String?
    /// `cookie.secure`: the `Secure` attribute (turn off only for plain-HTTP development).
    public var cookieSecure: Bool
    /// `forward_auth.redirect_hosts`: the hosts `rd=` may send a browser back to, lower-cased.
    public var redirectHosts: [String]

    public static let keys = ["cookie.enabled", "cookie.domain", "cookie.secure", "forward_auth.redirect_hosts"]

    /// Reads `cookie.enabled` (default false), `cookie.domain` (default none: host only), `cookie.secure` (default
    /// true) and `forward_auth.redirect_hosts` (default none: `rd=` is refused).
    public init(reader: ConfigReader) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        cookieEnabled = try parser.bool("cookie.enabled", default: false)
        cookieSecure = try parser.bool("cookie.secure", default: true)
        cookieDomain = try parser.optionalString("cookie.domain").map {
            $0.hasPrefix(".") ? String($0.dropFirst()).lowercased() : $0.lowercased()
        }
        if let domain = cookieDomain, !Self.isHostName(domain) {
            throw parser.bad("cookie.domain", "\"\(domain)\" is not a host name")
        }
        redirectHosts = parser.list("forward_auth.redirect_hosts").map { $0.lowercased() }
        for host in redirectHosts where !Self.isHostName(host) {
            throw parser.bad("forward_auth.redirect_hosts", "\"\(host)\" is not a host name (no scheme, port or path)")
        }
    }

    /// Letters, digits, dots and hyphens, at most 253 characters: a DNS name or an IPv4 address.
    static func isHostName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 253 && !text.hasPrefix(".") && !text.hasSuffix(".")
            && text.utf8.allSatisfy {
                ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D
            }
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("cookie.enabled", old.cookieEnabled, cookieEnabled)
        changes.compare("cookie.domain", old.cookieDomain, cookieDomain)
        changes.compare("cookie.secure", old.cookieSecure, cookieSecure)
        changes.compare("forward_auth.redirect_hosts", old.redirectHosts, redirectHosts)
        return changes.keys
    }
}
