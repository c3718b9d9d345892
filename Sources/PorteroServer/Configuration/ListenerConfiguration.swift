public import Configuration
import PorteroHTTP

/// Where and how the API is served, and who may use the admin routes.
public struct ListenerConfiguration: Sendable, Equatable {
    /// `listen`: the TCP address; nil serves no TCP.
    public var listen: ListenAddress?
    /// `socket`: the Unix socket's path; nil serves no Unix socket.
    public var socketPath: String?
    /// `socket_mode`: the Unix socket's permissions.
    public var socketMode: UInt16
    /// `tls.certificate` and `tls.key`: PEM files; TLS on the TCP listener when both are set.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// `admin_group`: members may use `/admin/v1` over the Unix socket, beside root and the daemon's own user.
    public var adminGroup: String?
    /// `trusted_proxies`: CIDRs (or `unix`) whose `X-Forwarded-For` is believed.
    public var trustedProxies: [String]

    public static let keys = [
        "listen", "socket", "socket_mode", "tls.certificate", "tls.key", "admin_group", "trusted_proxies",
    ]

    /// Reads `listen` (default `127.0.0.1:5500`; empty for none), `socket` (default from `defaults`; empty for
    /// none), `socket_mode` (default `0660`), `tls.certificate`, `tls.key`, `admin_group` and `trusted_proxies`.
    public init(reader: ConfigReader, dataDirectory: String, defaults: MachineDefaults) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        listen = try parser.listenAddress("listen", default: "127.0.0.1:5500")
        let socket = try parser.string("socket", default: defaults.socketPath(dataDirectory), allowEmpty: true)
        if socket.utf8.count > 107 {
            throw ConfigurationError("invalid value for socket: path longer than 107 bytes")
        }
        socketPath = socket.isEmpty ? nil : socket
        socketMode = try parser.fileMode("socket_mode", default: 0o660)
        tlsCertificate = try parser.optionalString("tls.certificate")
        tlsKey = try parser.optionalString("tls.key")
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ConfigurationError("invalid value for tls.key: tls.certificate and tls.key must be set together")
        }
        adminGroup = try parser.optionalString("admin_group")
        trustedProxies = parser.list("trusted_proxies")
        for proxy in trustedProxies where proxy != "unix" && IPNetwork(proxy) == nil {
            throw ConfigurationError("invalid value for trusted_proxies: \"\(proxy)\" is not a CIDR or \"unix\"")
        }
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("listen", old.listen, listen)
        changes.compare("socket", old.socketPath, socketPath)
        changes.compare("socket_mode", old.socketMode, socketMode)
        changes.compare("tls.certificate", old.tlsCertificate, tlsCertificate)
        changes.compare("tls.key", old.tlsKey, tlsKey)
        changes.compare("admin_group", old.adminGroup, adminGroup)
        changes.compare("trusted_proxies", old.trustedProxies, trustedProxies)
        return changes.keys
    }
}
