import Foundation
import PorteroCore
import PorteroHTTP

extension ConfigurationLoader {
    /// Turns raw strings into typed settings; the first bad value throws one line naming its key.
    static func validate(_ values: ConfigValues, defaults: Defaults) throws(ConfigurationError)
        -> PorteroConfiguration
    {
        let parser = ValueParser(values: values)
        let dataDirectory = try parser.string("data_dir", default: defaults.dataDirectory, allowEmpty: false)
        let listen = try parser.listenAddress("listen", default: "127.0.0.1:5500")
        let socket = try parser.string("socket", default: defaults.socketPath(dataDirectory), allowEmpty: true)
        if socket.utf8.count > 107 {
            throw ConfigurationError("invalid value for socket: path longer than 107 bytes")
        }
        let tlsCertificate = try parser.optionalString("tls.certificate")
        let tlsKey = try parser.optionalString("tls.key")
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ConfigurationError("invalid value for tls.key: tls.certificate and tls.key must be set together")
        }
        let trustedProxies = values.trustedProxies?.filter { !$0.isEmpty } ?? []
        for proxy in trustedProxies where proxy != "unix" && IPNetwork(proxy) == nil {
            throw ConfigurationError("invalid value for trusted_proxies: \"\(proxy)\" is not a CIDR or \"unix\"")
        }
        let secret = try parser.optionalString("jwt.secret", secret: true)
        if let secret, secret.utf8.count < 32 {
            throw ConfigurationError("invalid value for jwt.secret: must be at least 32 bytes")
        }
        let minLength = try parser.int("password.min_length", default: 8, range: 1...1024)
        let maxLength = try parser.int("password.max_length", default: 128, range: 1...4096)
        if minLength > maxLength {
            throw ConfigurationError("invalid value for password.min_length: larger than password.max_length")
        }
        let mailTransport = try parser.choice("mail.transport", default: defaults.mailTransport)
        let webhook = try parser.optionalString("mail.webhook")
        if let webhook, !(webhook.hasPrefix("http://") || webhook.hasPrefix("https://") || webhook.hasPrefix("unix:")) {
            throw ConfigurationError("invalid value for mail.webhook: must start with http://, https:// or unix:")
        }
        if mailTransport == .webhook && webhook == nil {
            throw ConfigurationError("invalid value for mail.transport: webhook needs mail.webhook")
        }
        return PorteroConfiguration(
            dataDirectory: dataDirectory,
            listen: listen,
            socketPath: socket.isEmpty ? nil : socket,
            socketMode: try parser.fileMode("socket_mode", default: 0o660),
            tlsCertificate: tlsCertificate,
            tlsKey: tlsKey,
            adminGroup: try parser.optionalString("admin_group"),
            trustedProxies: trustedProxies,
            issuer: try parser.string("issuer", default: "portero", allowEmpty: false),
            audience: try parser.string("audience", default: "portero", allowEmpty: false),
            jwtAlgorithm: try parser.choice("jwt.algorithm", default: .hs256),
            jwtSecret: secret,
            accessTTL: try parser.timeSpan("access_ttl", default: "1h"),
            refreshTTL: try parser.timeSpan("refresh_ttl", default: "30d"),
            codeTTL: try parser.timeSpan("code_ttl", default: "15m"),
            passwordAlgorithm: try parser.choice("password.algorithm", default: .argon2id),
            passwordMinLength: minLength,
            passwordMaxLength: maxLength,
            lockoutMaxFailures: try parser.int("lockout.max_failures", default: 5, range: 0...1_000_000),
            lockoutDuration: try parser.timeSpan("lockout.duration", default: "24h"),
            rateLogin: try parser.rate("rate.login", default: "5/15m"),
            rateRegister: try parser.rate("rate.register", default: "10/1h"),
            rateVerify: try parser.rate("rate.verify", default: "10/15m"),
            rateResend: try parser.rate("rate.resend", default: "3/1h"),
            rateForgot: try parser.rate("rate.forgot", default: "3/1h"),
            snapshotEveryRecords: try parser.int("snapshot.every_records", default: 10_000, range: 1...100_000_000),
            snapshotEvery: try parser.timeSpan("snapshot.every", default: "10m"),
            mailTransport: mailTransport,
            mailSendmail: try parser.string("mail.sendmail", default: "/usr/sbin/sendmail -t -i", allowEmpty: false),
            mailMaildir: try parser.string("mail.maildir", default: dataDirectory + "/mail", allowEmpty: false),
            mailWebhook: webhook,
            mailFrom: try parser.string("mail.from", default: defaults.mailFrom, allowEmpty: false),
            logFormat: try parser.choice("log.format", default: defaults.logFormat),
            logLevel: try parser.choice("log.level", default: .info)
        )
    }
}

/// Parses one key at a time; every failure names the key.
private struct ValueParser {
    let values: ConfigValues

    func raw(_ key: String) -> String? {
        values.strings[key].map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func bad(_ key: String, _ problem: String) -> ConfigurationError {
        ConfigurationError("invalid value for \(key): \(problem)")
    }

    func string(_ key: String, default fallback: String, allowEmpty: Bool) throws(ConfigurationError) -> String {
        guard let value = raw(key) else { return fallback }
        if value.isEmpty && !allowEmpty { throw bad(key, "must not be empty") }
        try checkText(key, value)
        return value
    }

    func optionalString(_ key: String, secret: Bool = false) throws(ConfigurationError) -> String? {
        guard let value = raw(key), !value.isEmpty else { return nil }
        if !secret { try checkText(key, value) }
        return value
    }

    func checkText(_ key: String, _ value: String) throws(ConfigurationError) {
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw bad(key, "contains control characters")
        }
    }

    func int(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = raw(key) else { return fallback }
        guard let number = Int(value), range.contains(number) else {
            throw bad(key, "\"\(value)\" is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func timeSpan(_ key: String, default fallback: String) throws(ConfigurationError) -> TimeSpan {
        let value = raw(key) ?? fallback
        guard let span = TimeSpan(parsing: value), span.seconds > 0 else {
            throw bad(key, "\"\(value)\" is not a duration like 30s, 15m, 24h or 30d")
        }
        return span
    }

    func rate(_ key: String, default fallback: String) throws(ConfigurationError) -> RateLimit {
        let value = raw(key) ?? fallback
        guard let rate = RateLimit(parsing: value) else {
            throw bad(key, "\"\(value)\" is not a rate like 5/15m (or 0 for off)")
        }
        return rate
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        guard let value = raw(key) else { return fallback }
        guard let choice = T.allCases.first(where: { $0.rawValue.lowercased() == value.lowercased() }) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw bad(key, "\"\(value)\" is not one of \(options)")
        }
        return choice
    }

    func fileMode(_ key: String, default fallback: UInt16) throws(ConfigurationError) -> UInt16 {
        guard let value = raw(key) else { return fallback }
        guard (3...4).contains(value.count), let mode = UInt16(value, radix: 8), mode <= 0o777 else {
            throw bad(key, "\"\(value)\" is not an octal mode like 0660")
        }
        return mode
    }

    func listenAddress(_ key: String, default fallback: String) throws(ConfigurationError)
        -> PorteroConfiguration.ListenAddress?
    {
        let value = raw(key) ?? fallback
        if value.isEmpty { return nil }
        let host: Substring
        let port: Substring
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]"), value[value.index(after: close)...].hasPrefix(":") else {
                throw bad(key, "\"\(value)\" is not host:port")
            }
            host = value[value.index(after: value.startIndex)..<close]
            port = value[value.index(close, offsetBy: 2)...]
        } else {
            guard let colon = value.lastIndex(of: ":"), !value[..<colon].contains(":") else {
                throw bad(key, "\"\(value)\" is not host:port")
            }
            host = value[..<colon]
            port = value[value.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (0...65535).contains(number) else {
            throw bad(key, "\"\(value)\" is not host:port with a port from 0 to 65535")
        }
        return .init(host: String(host), port: number)
    }
}
