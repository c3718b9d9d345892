import Foundation
import HTTPTypes
public import PorteroCore

/// What the HTTP adapter needs of `cookie.*` and `forward_auth.*`: whether `portero_session` is set and taken, its
/// attributes, and the hosts `rd=` may name.
public struct BrowserSessionSettings: Sendable {
    public var cookieEnabled: Bool
    /// The cookie's `Domain`; nil = host only.
    public var cookieDomain: String?
    public var cookieSecure: Bool
    /// Hosts (lower-case) a browser may be sent back to.
    public var redirectHosts: Set<String>

    /// Cookies off: no cookie is set or taken, and the sign-in page is not served.
    public static let disabled = BrowserSessionSettings(
        cookieEnabled: false, cookieDomain: nil, cookieSecure: true, redirectHosts: [])

    public init(cookieEnabled: Bool, cookieDomain: String?, cookieSecure: Bool, redirectHosts: Set<String>) {
        self.cookieEnabled = cookieEnabled
        self.cookieDomain = cookieDomain
        self.cookieSecure = cookieSecure
        self.redirectHosts = redirectHosts
    }

    /// The cookie's name.
    public static let cookieName = "portero_session"

    /// `Set-Cookie` for `value`, alive `maxAge` seconds (the session's lifetime); `nil` clears the cookie.
    func setCookie(_ value: String?, maxAge: Int = 0) -> String {
        var parts = ["\(Self.cookieName)=\(value ?? "")", "Path=/", "Max-Age=\(value == nil ? 0 : maxAge)"]
        if let cookieDomain { parts.append("Domain=\(cookieDomain)") }
        parts.append("HttpOnly")
        if cookieSecure { parts.append("Secure") }
        parts.append("SameSite=Lax")
        return parts.joined(separator: "; ")
    }

    /// The `portero_session` value a request carries (the first, if a browser sent several); nil when cookies are
    /// off or there is none.
    func cookie(in fields: HTTPFields) -> String? {
        guard cookieEnabled else { return nil }
        for header in fields[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == Self.cookieName else {
                    continue
                }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { return value }
            }
        }
        return nil
    }

    /// `rd` when it is an absolute `http(s)` URL, printable ASCII only, without user info, to one of
    /// `redirectHosts`; nil for anything else (relative, scheme-relative, another host, `javascript:`, a backslash).
    func allowedRedirect(_ rd: String?) -> URL? {
        guard let rd, rd.utf8.count <= 2048,
            rd.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E && $0 != "\\" }),
            let components = URLComponents(string: rd),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
            components.user == nil, components.password == nil,
            let host = components.host?.lowercased(), redirectHosts.contains(host),
            let url = components.url, url.host?.lowercased() == host
        else { return nil }
        return url
    }
}
