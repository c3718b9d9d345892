public import Logging

/// Who is asking: what a use case records with logins and sessions, counts rate limits against and logs with
/// every security event. The adapter that took the request builds it.
public struct Caller: Sendable {
    /// The client's address as recorded and logged (`trusted_proxies` applied), or `unix`.
    public var address: String
    /// What per-address rate limits count against.
    public var addressKey: String
    /// The `User-Agent`, already cleaned of control characters and shortened (it is shown back in `/sessions`).
    public var userAgent: String?
    /// The request's logger (it carries the request id).
    public var logger: Logger

    public init(address: String, addressKey: String? = nil, userAgent: String? = nil, logger: Logger) {
        self.address = address
        self.addressKey = addressKey ?? address
        self.userAgent = userAgent
        self.logger = logger
    }
}
