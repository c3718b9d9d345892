import Configuration
public import Foundation
import PorteroCore
import SystemPackage
import Yams

/// Reads SPEC §2's sources, later wins: embedded defaults < config file < `PORTERO_*` environment < flags,
/// through swift-configuration's providers, into a ``PorteroConfiguration`` whose components read and check their keys.
///
/// swift-configuration reads whatever keys it is asked for and ignores the rest, so unknown keys are found here:
/// the YAML file's leaf keys and the `PORTERO_*` variables are compared with ``PorteroConfiguration/keys``.
public struct ConfigurationLoader: Sendable {
    /// Where the file is: an explicit `--config` must exist; the default path is used only if it exists.
    public enum FileLocation: Sendable, Equatable {
        case explicit(String)
        case defaultPath(String)
    }

    public var file: FileLocation
    public var environment: [String: String]
    /// Flag values by config key (`listen`, `rate.login`, …).
    public var flags: [String: String]
    public var userID: UInt32
    public var hostname: String
    public var fileExists: @Sendable (String) -> Bool
    /// `/usr/sbin/sendmail` cannot deliver from this process (``LocalMTA``).
    public var sendmailNeedsPrivileges: Bool

    public static let defaultConfigPath = "/etc/portero/portero.yaml"

    /// Environment variables with the `PORTERO_` prefix that are not configuration keys.
    static let otherEnvironmentNames: Set<String> = ["PORTERO_CONFIG"]

    public init(
        file: FileLocation? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        flags: [String: String] = [:],
        userID: UInt32 = getuid(),
        hostname: String = ProcessInfo.processInfo.hostName,
        fileExists: @escaping @Sendable (String) -> Bool = { FileManager.default.fileExists(atPath: $0) },
        sendmailNeedsPrivileges: Bool = LocalMTA.sendmailNeedsPrivileges()
    ) {
        self.file = file ?? environment["PORTERO_CONFIG"].map { .explicit($0) } ?? .defaultPath(Self.defaultConfigPath)
        self.environment = environment
        self.flags = flags
        self.userID = userID
        self.hostname = hostname
        self.fileExists = fileExists
        self.sendmailNeedsPrivileges = sendmailNeedsPrivileges
    }

    /// Loads and validates; throws a ``ConfigurationError`` naming the first bad key.
    public func load() async throws(ConfigurationError) -> PorteroConfiguration {
        try checkEnvironmentNames()
        for key in flags.keys where !PorteroConfiguration.keys.contains(key) {
            throw ConfigurationError("unknown flag \(PorteroConfiguration.flagName(of: key))")
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                name: "flags",
                values: Dictionary(
                    uniqueKeysWithValues: flags.map { key, value in
                        (AbsoluteConfigKey(ConfigKey(key)), ConfigValue(.string(value), isSecret: false))
                    })
            ),
            EnvironmentVariablesProvider(
                environmentVariables: environment.filter { $0.key.hasPrefix("PORTERO_") },
                secretsSpecifier: .specific(
                    Set(PorteroConfiguration.secretKeys.map(PorteroConfiguration.environmentName(of:))))
            ).prefixKeys(with: ["portero"]),
        ]
        if let path = try filePath() {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw ConfigurationError("config file \(path): cannot be read (\(Self.reason(of: error)))")
            }
            // A file of comments only (the packaged default) has no keys; YAMLSnapshot would refuse it as no mapping.
            if try checkFileKeys(data, path: path) {
                do {
                    providers.append(
                        try await FileProvider<YAMLSnapshot>(
                            parsingOptions: .init(secretsSpecifier: .specific(PorteroConfiguration.secretKeys)),
                            filePath: FilePath(path)
                        )
                    )
                } catch {
                    throw ConfigurationError("config file \(path): \(error)")
                }
            }
        }
        let reader = ConfigReader(providers: providers)
        var configuration = try PorteroConfiguration(
            reader: reader,
            defaults: MachineDefaults(
                environment: environment, userID: userID, hostname: hostname, fileExists: fileExists,
                sendmailNeedsPrivileges: sendmailNeedsPrivileges)
        )
        configuration.origin = ConfigurationOrigin(file: file, flags: flags)
        return configuration
    }

    private func filePath() throws(ConfigurationError) -> String? {
        switch file {
        case .explicit(let path):
            guard fileExists(path) else { throw ConfigurationError("config file \(path): no such file") }
            return path
        case .defaultPath(let path):
            return fileExists(path) ? path : nil
        }
    }

    private func checkEnvironmentNames() throws(ConfigurationError) {
        let known = Set(PorteroConfiguration.keys.map(PorteroConfiguration.environmentName(of:)))
        for name in environment.keys.sorted() where name.hasPrefix("PORTERO_") {
            if !known.contains(name) && !Self.otherEnvironmentNames.contains(name) {
                throw ConfigurationError("environment: unknown variable \(name)")
            }
        }
    }

    /// Refuses keys the file has that Portero does not know (swift-configuration would silently ignore them);
    /// returns false for an empty document (nothing but comments).
    private func checkFileKeys(_ data: Data, path: String) throws(ConfigurationError) -> Bool {
        let node: Node?
        do {
            node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self))
        } catch {
            throw ConfigurationError("config file \(path): not valid YAML (\(Self.reason(of: error)))")
        }
        guard let node else { return false }
        guard case .mapping(let mapping) = node else {
            throw ConfigurationError("config file \(path): must be a mapping of keys to values")
        }
        let known = Set(PorteroConfiguration.keys)
        let sections = Set(
            PorteroConfiguration.keys.compactMap { $0.split(separator: ".").dropLast().first }.map(String.init))
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { throw ConfigurationError("config file \(path): non-text key") }
            if case .mapping(let nested) = valueNode {
                guard sections.contains(key) else {
                    throw ConfigurationError("config file \(path): unknown key \(key)")
                }
                for (nestedKey, nestedValue) in nested {
                    let full = "\(key).\(nestedKey.string ?? "?")"
                    guard known.contains(full) else {
                        throw ConfigurationError("config file \(path): unknown key \(full)")
                    }
                    if case .mapping = nestedValue {
                        throw ConfigurationError("config file \(path): \(full) must be a value, not a mapping")
                    }
                }
            } else {
                guard known.contains(key) else {
                    if sections.contains(key) {
                        throw ConfigurationError("config file \(path): \(key) must be a mapping")
                    }
                    throw ConfigurationError("config file \(path): unknown key \(key)")
                }
            }
        }
        return true
    }

    static func reason(of error: any Error) -> String {
        if let error = error as? CocoaError, let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return "\(error)"
    }
}
