public import Configuration
import Foundation
public import PorteroCore

/// Every setting of SPEC §2, one component per part of the daemon, each read and checked by its own
/// `init(reader:)`.
///
/// Built by ``ConfigurationLoader`` from defaults < config file < `PORTERO_*` environment < flags.
public struct PorteroConfiguration: Sendable, Equatable {
    /// `data_dir`: the store's directory.
    public var dataDirectory: String
    public var listeners: ListenerConfiguration
    public var tokens: TokenConfiguration
    public var auth: AuthConfiguration
    public var passwords: PasswordConfiguration
    public var snapshots: SnapshotConfiguration
    public var mail: MailConfiguration
    public var log: LogConfiguration
    public var browser: BrowserSessionConfiguration
    public var metrics: MetricsConfiguration
    /// The sources this configuration was read from, so that SIGHUP can read them again; nil when built by hand.
    public var origin: ConfigurationOrigin? = nil

    /// Reads `data_dir` (default from `defaults`), then every component's keys.
    public init(reader: ConfigReader, defaults: MachineDefaults) throws(ConfigurationError) {
        dataDirectory = try ConfigParser(reader).string("data_dir", default: defaults.dataDirectory, allowEmpty: false)
        listeners = try ListenerConfiguration(reader: reader, dataDirectory: dataDirectory, defaults: defaults)
        tokens = try TokenConfiguration(reader: reader)
        auth = try AuthConfiguration(reader: reader)
        passwords = try PasswordConfiguration(reader: reader)
        snapshots = try SnapshotConfiguration(reader: reader)
        mail = try MailConfiguration(reader: reader, dataDirectory: dataDirectory, defaults: defaults)
        log = try LogConfiguration(reader: reader, defaults: defaults)
        browser = try BrowserSessionConfiguration(reader: reader)
        metrics = try MetricsConfiguration(reader: reader)
    }

    /// Every key of SPEC §2.
    public static let keys: [String] =
        ["data_dir"] + ListenerConfiguration.keys + TokenConfiguration.keys + AuthConfiguration.keys
        + PasswordConfiguration.keys + SnapshotConfiguration.keys + MailConfiguration.keys + LogConfiguration.keys
        + BrowserSessionConfiguration.keys + MetricsConfiguration.keys

    /// Keys whose values are secrets: they are never printed, and have no command-line flag.
    public static let secretKeys: Set<String> = ["jwt.secret", "mail.smtp.password", "mail.webhook_secret"]

    /// The environment variable of a key: `a.b_c` → `PORTERO_A_B_C`.
    public static func environmentName(of key: String) -> String {
        "PORTERO_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// The flag of a key: `a.b_c` → `--a-b-c`.
    public static func flagName(of key: String) -> String {
        "--" + key.replacingOccurrences(of: ".", with: "-").replacingOccurrences(of: "_", with: "-")
    }

    /// The keys whose values differ from `old`'s.
    func changedKeys(since old: Self) -> [String] {
        (old.dataDirectory != dataDirectory ? ["data_dir"] : [])
            + listeners.changedKeys(since: old.listeners) + tokens.changedKeys(since: old.tokens)
            + auth.changedKeys(since: old.auth) + passwords.changedKeys(since: old.passwords)
            + snapshots.changedKeys(since: old.snapshots) + mail.changedKeys(since: old.mail)
            + log.changedKeys(since: old.log) + browser.changedKeys(since: old.browser)
            + metrics.changedKeys(since: old.metrics)
    }
}

extension PorteroConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// Every setting; `jwt.secret` is a ``Secret`` and shows as `<redacted>`, so a configuration can be logged.
    public var description: String {
        "PorteroConfiguration(data_dir: \(dataDirectory), \(listeners), \(tokens), \(auth), \(passwords), "
            + "\(snapshots), \(mail), \(log), \(browser), \(metrics))"
    }

    public var debugDescription: String { description }
}
