public import Configuration
public import PorteroCore

/// How access tokens are signed and what they say.
public struct TokenConfiguration: Sendable, Equatable {
    /// `issuer` and `audience`: the `iss` and `aud` claims.
    public var issuer: String
    public var audience: String
    /// `jwt.algorithm`: HS256 or EdDSA.
    public var algorithm: SigningKey.Algorithm
    /// `jwt.secret`: the configured HS256 secret; nil = systemd credential or the generated key file.
    public var secret: Secret?
    /// `access_ttl`: how long an access token is good.
    public var accessTTL: TimeSpan

    public static let keys = ["issuer", "audience", "jwt.algorithm", "jwt.secret", "access_ttl"]

    /// Reads `issuer` and `audience` (default `portero`), `jwt.algorithm` (default HS256), `jwt.secret` (secret; at
    /// least 32 bytes) and `access_ttl` (default 1h).
    public init(reader: ConfigReader) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        issuer = try parser.string("issuer", default: "portero", allowEmpty: false)
        audience = try parser.string("audience", default: "portero", allowEmpty: false)
        algorithm = try parser.choice("jwt.algorithm", default: .hs256)
        secret = try parser.optionalString("jwt.secret").map(Secret.init)
        if let secret, secret.value.utf8.count < 32 {
            throw ConfigurationError("invalid value for jwt.secret: must be at least 32 bytes")
        }
        accessTTL = try parser.timeSpan("access_ttl", default: "1h")
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("issuer", old.issuer, issuer)
        changes.compare("audience", old.audience, audience)
        changes.compare("jwt.algorithm", old.algorithm, algorithm)
        changes.compare("jwt.secret", old.secret, secret)
        changes.compare("access_ttl", old.accessTTL, accessTTL)
        return changes.keys
    }
}
