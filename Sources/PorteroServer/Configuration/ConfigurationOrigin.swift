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
