public import Configuration

/// Where `GET /metrics` is served.
public struct MetricsConfiguration: Sendable, Equatable {
    /// `metrics.tcp`: also serve `/metrics` on the TCP listener (it is always served on the Unix socket).
    public var tcp: Bool

    public static let keys = ["metrics.tcp"]

    /// Reads `metrics.tcp` (default false: Unix socket only; over TCP `/metrics` is 404).
    public init(reader: ConfigReader) throws(ConfigurationError) {
        tcp = try ConfigParser(reader).bool("metrics.tcp", default: false)
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("metrics.tcp", old.tcp, tcp)
        return changes.keys
    }
}
