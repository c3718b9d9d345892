import Foundation
public import PorteroCore

/// Every setting of SPEC §2, parsed and validated.
///
/// Built by ``ConfigurationLoader`` from defaults < config file < `PORTERO_*` environment < flags.
public struct PorteroConfiguration: Sendable, Equatable {
    public enum JWTAlgorithm: String, Sendable, CaseIterable { case hs256 = "HS256", eddsa = "EdDSA" }
    public enum PasswordAlgorithm: String, Sendable, CaseIterable { case argon2id, bcrypt }
    public enum MailTransport: String, Sendable, CaseIterable { case sendmail, maildir, webhook }
    public enum LogFormat: String, Sendable, CaseIterable { case journal, text, json }
    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    /// A TCP listen address: `host:port`, `[v6]:port`.
    public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public var dataDirectory: String
    public var listen: ListenAddress?
    public var socketPath: String?
    public var socketMode: UInt16
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var adminGroup: String?
    public var trustedProxies: [String]
    public var issuer: String
    public var audience: String
    public var jwtAlgorithm: JWTAlgorithm
    /// The configured HS256 secret (never logged); nil = systemd credential or the generated key file.
    public var jwtSecret: String?
    public var accessTTL: TimeSpan
    public var refreshTTL: TimeSpan
    public var codeTTL: TimeSpan
    public var passwordAlgorithm: PasswordAlgorithm
    public var passwordMinLength: Int
    public var passwordMaxLength: Int
    public var lockoutMaxFailures: Int
    public var lockoutDuration: TimeSpan
    public var rateLogin: RateLimit
    public var rateRegister: RateLimit
    public var rateVerify: RateLimit
    public var rateResend: RateLimit
    public var rateForgot: RateLimit
    public var snapshotEveryRecords: Int
    public var snapshotEvery: TimeSpan
    public var mailTransport: MailTransport
    public var mailSendmail: String
    public var mailMaildir: String
    public var mailWebhook: String?
    public var mailFrom: String
    public var logFormat: LogFormat
    public var logLevel: LogLevel
    /// The sources this configuration was read from, so that SIGHUP can read them again; nil when built by hand.
    public var origin: ConfigurationOrigin? = nil
}

/// Where a configuration was read from: its file and its command-line flags (the environment is the process's).
public struct ConfigurationOrigin: Sendable, Equatable {
    public var file: ConfigurationLoader.FileLocation
    /// Flag values by config key.
    public var flags: [String: String]

    public init(file: ConfigurationLoader.FileLocation, flags: [String: String]) {
        self.file = file
        self.flags = flags
    }
}

extension PorteroConfiguration {
    /// Every key of SPEC §2, in the order of `etc/portero.yaml`.
    public static let keys: [String] = [
        "data_dir", "listen", "socket", "socket_mode", "tls.certificate", "tls.key", "admin_group",
        "trusted_proxies", "issuer", "audience", "jwt.algorithm", "jwt.secret", "access_ttl", "refresh_ttl",
        "code_ttl", "password.algorithm", "password.min_length", "password.max_length", "lockout.max_failures",
        "lockout.duration", "rate.login", "rate.register", "rate.verify", "rate.resend", "rate.forgot",
        "snapshot.every_records", "snapshot.every", "mail.transport", "mail.sendmail", "mail.maildir",
        "mail.webhook", "mail.from", "log.format", "log.level",
    ]

    /// Keys whose values are secrets: they are never printed, and have no command-line flag.
    public static let secretKeys: Set<String> = ["jwt.secret"]

    /// The environment variable of a key: `a.b_c` → `PORTERO_A_B_C`.
    public static func environmentName(of key: String) -> String {
        "PORTERO_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// The flag of a key: `a.b_c` → `--a-b-c`.
    public static func flagName(of key: String) -> String {
        "--" + key.replacingOccurrences(of: ".", with: "-").replacingOccurrences(of: "_", with: "-")
    }
}

/// Why the configuration was refused: one line naming the key and the problem.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension PorteroConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// Every setting but the secret, which shows as `<redacted>`: a configuration can be logged safely.
    public var description: String {
        let fields = Mirror(reflecting: self).children.map { child -> String in
            let name = child.label ?? "?"
            if name == "jwtSecret" { return "\(name): \(jwtSecret == nil ? "nil" : "<redacted>")" }
            return "\(name): \(String(describing: child.value))"
        }
        return "PorteroConfiguration(\(fields.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }
}
