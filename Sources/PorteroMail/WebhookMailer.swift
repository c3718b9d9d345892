import Dispatch
public import PorteroCore
import Foundation
public import Logging

/// Delivers messages by POSTing them as JSON to an HTTP endpoint over TCP or a Unix socket.
///
/// The body is `{"to", "subject", "text", "kind", "code", "user_id"}` (`code` and `user_id` are `null` when absent),
/// sent as `application/json` with `Connection: close` by a small HTTP/1.1 client over POSIX sockets that runs on a
/// Dispatch thread. Any 2xx status means delivered; anything else, or no answer within `timeout`, is a `MailError`
/// that names the status but quotes nothing of either body.
///
/// Targets (`mail.webhook`):
/// - `http://host[:port][/path]`: TCP; `host` may be a name, an IPv4 address or a bracketed IPv6 address.
/// - `unix:/path/to.sock[:/url]`: a Unix stream socket, and the request path (default `/`).
///
/// `https://` is not supported: there is no TLS client here. Point the webhook at loopback or a Unix socket and let a
/// local relay speak TLS.
public struct WebhookMailer: Mailer {
    /// Where the webhook listens.
    public enum Endpoint: Sendable, Equatable {
        /// A TCP host name or address and port.
        case tcp(host: String, port: UInt16)
        /// A Unix stream socket's path.
        case unix(path: String)
    }

    /// Where requests go.
    public let endpoint: Endpoint
    /// The request target, e.g. `/hooks/mail`.
    public let path: String
    /// How long one delivery may take, connecting included.
    public let timeout: Duration
    private let hostHeader: String
    private let logger: Logger

    /// Creates a webhook transport.
    ///
    /// - Parameters:
    ///   - target: `http://host:port/path` or `unix:/path/to.sock:/url` (`mail.webhook`).
    ///   - timeout: how long one delivery may take, connecting included.
    ///   - logger: logs deliveries at `debug`, with the message id and kind only.
    /// - Throws: `MailError` with code `.invalidConfiguration` for `https://` and anything it cannot parse.
    public init(
        target: String,
        timeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "portero.mail.webhook")
    ) throws(MailError) {
        let parsed = try Self.parse(target)
        self.endpoint = parsed.endpoint
        self.path = parsed.path
        self.hostHeader = parsed.hostHeader
        self.timeout = timeout
        self.logger = logger
    }

    /// POSTs `message` as JSON.
    ///
    /// - Throws: `MailError` (`.connectionFailed`, `.timedOut`, `.badResponse`).
    public func deliver(_ message: OutboxMail) async throws {
        let body = try Self.payload(message)
        let request = HTTPPost(endpoint: endpoint, path: path, host: hostHeader, body: body, timeout: timeout)
        let status = try await DispatchQueue.blockingWork.run { () throws(MailError) -> Int in try request.send() }
        guard (200...299).contains(status) else {
            throw MailError(.badResponse, "mail webhook \(describe(endpoint)) answered HTTP \(status)")
        }
        logger.debug(
            "mail posted to webhook",
            metadata: [
                "mail.transport": "webhook",
                "mail.id": "\(message.id)",
                "mail.kind": "\(message.kind)",
                "http.status": "\(status)",
            ]
        )
    }

    private func describe(_ endpoint: Endpoint) -> String {
        switch endpoint {
        case .tcp: "http://\(hostHeader)\(path)"
        case .unix(let socket): "unix:\(socket):\(path)"
        }
    }

    // MARK: - Payload

    private struct Payload: Encodable {
        var to: String
        var subject: String
        var text: String
        var kind: String
        var code: String?
        var userID: String?

        enum CodingKeys: String, CodingKey {
            case to, subject, text, kind, code
            case userID = "user_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(to, forKey: .to)
            try container.encode(subject, forKey: .subject)
            try container.encode(text, forKey: .text)
            try container.encode(kind, forKey: .kind)
            try container.encode(code, forKey: .code)
            try container.encode(userID, forKey: .userID)
        }
    }

    /// The JSON body: the message's fields, `user_id` as a lowercase UUID.
    static func payload(_ message: OutboxMail) throws(MailError) -> [UInt8] {
        let payload = Payload(
            to: message.to,
            subject: message.subject,
            text: message.text,
            kind: message.kind,
            code: message.code,
            userID: message.userID?.uuidString.lowercased()
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(payload))
        } catch {
            throw MailError(.invalidHeader, "mail message cannot be encoded as JSON")
        }
    }

    // MARK: - Target

    private static let sunPathLimit = 107

    static func parse(_ target: String) throws(MailError) -> (endpoint: Endpoint, path: String, hostHeader: String) {
        func invalid(_ problem: String) -> MailError {
            MailError(.invalidConfiguration, "mail.webhook \(problem)")
        }
        let lowered = target.lowercased()
        if lowered.hasPrefix("https://") {
            throw invalid(
                "is https://, and https:// is not supported (no TLS client here): use http:// to a loopback relay "
                    + "or unix:/path/to.sock:/url"
            )
        }
        if lowered.hasPrefix("unix:") {
            let rest = target.dropFirst("unix:".count)
            let socket: Substring
            let path: Substring
            if let colon = rest.firstIndex(of: ":") {
                socket = rest[..<colon]
                path = rest[rest.index(after: colon)...]
            } else {
                socket = rest
                path = "/"
            }
            guard socket.hasPrefix("/") else { throw invalid("needs an absolute socket path: unix:/path/to.sock:/url") }
            guard socket.utf8.count <= sunPathLimit else {
                throw invalid("socket path is longer than \(sunPathLimit) bytes")
            }
            guard !socket.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                throw invalid("socket path holds a control character")
            }
            return (.unix(path: String(socket)), try requestPath(path, invalid), "localhost")
        }
        guard lowered.hasPrefix("http://") else {
            throw invalid("must start with http:// or unix: (https:// is not supported)")
        }
        let rest = target.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        guard !authority.contains("@") else { throw invalid("must not carry credentials in the URL") }
        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("has an unclosed [ in its host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("has text after its IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty,
            host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") })
        else {
            throw invalid("has no valid host")
        }
        var port: UInt16 = 80
        if let portText {
            guard let value = UInt16(portText), value > 0 else { throw invalid("has an invalid port") }
            port = value
        }
        let target = path.hasPrefix("#") ? "/" : (path.isEmpty ? "/" : String(path.prefix { $0 != "#" }))
        let requestTarget = target.hasPrefix("?") ? "/" + target : target
        return (
            .tcp(host: String(host), port: port), try requestPath(Substring(requestTarget), invalid), String(authority)
        )
    }

    /// Checks a request target: starts with `/`, no spaces or control characters (they would split the request line).
    private static func requestPath(_ path: Substring, _ invalid: (String) -> MailError) throws(MailError) -> String {
        let path = path.isEmpty ? "/" : path
        guard path.hasPrefix("/") else { throw invalid("request path must start with /") }
        guard path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw invalid("request path holds a space, a control or a non-ASCII character (percent-encode it)")
        }
        return String(path)
    }
}
