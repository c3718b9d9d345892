import AsyncHTTPClient
import Crypto
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
public import PorteroCore
import Synchronization

/// Delivers messages by POSTing them as JSON to an HTTP endpoint: `http://`, `https://` or a Unix socket, through
/// async-http-client.
///
/// The body is `{"to", "subject", "text", "kind", "code", "user_id"}` (`code` and `user_id` are `null` when
/// absent), plus `"html"` when the message has an HTML part, sent as `application/json` with `Idempotency-Key: <message id>` — the same on every attempt, so a
/// receiver (or a mail API such as Resend) can drop a repeat. With a secret, every request carries
/// `X-Portero-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. Any 2xx status means
/// delivered; anything else, or no answer within `timeout`, is a `MailError` that names the status but quotes
/// nothing of either body. Redirects are not followed.
///
/// Targets (`mail.webhook`):
/// - `http://host[:port][/path]` and `https://host[:port][/path]`: `host` may be a name, an IPv4 address or a
///   bracketed IPv6 address; `https://` checks the certificate against the system trust store, or against the
///   CA file given (`mail.webhook_ca`).
/// - `unix:/path/to.sock[:/url]`: a Unix stream socket, and the request path (default `/`).
public final class WebhookMailer: Mailer {
    /// Where the webhook listens.
    public enum Endpoint: Sendable, Equatable {
        /// A TCP host name or address and port; `secure` for `https://`.
        case tcp(host: String, port: UInt16, secure: Bool)
        /// A Unix stream socket's path.
        case unix(path: String)
    }

    /// Where requests go.
    public let endpoint: Endpoint
    /// The request target, e.g. `/hooks/mail`.
    public let path: String
    /// How long one delivery may take, connecting included.
    public let timeout: Duration
    private let url: String
    private let display: String
    private let secret: [UInt8]?
    private let configuration: HTTPClient.Configuration
    /// Made at the first delivery, shut down by ``shutdown()``: a client that was never used needs no shutdown.
    private let client = Mutex<HTTPClient?>(nil)
    private let logger: Logger

    /// Creates a webhook transport.
    ///
    /// - Parameters:
    ///   - target: `http://host:port/path`, `https://host/path` or `unix:/path/to.sock:/url` (`mail.webhook`).
    ///   - secret: signs every request (`mail.webhook_secret`); no signature when nil.
    ///   - caFile: a PEM file of the CA an `https://` receiver's certificate must chain to (`mail.webhook_ca`);
    ///     the system trust store when nil.
    ///   - timeout: how long one delivery may take, connecting included.
    ///   - logger: logs deliveries at `debug`, with the message id and kind only.
    /// - Throws: `MailError` with code `.invalidConfiguration` for a target it cannot parse or a CA that does not
    ///   load.
    public init(
        target: String,
        secret: String? = nil,
        caFile: String? = nil,
        timeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "portero.mail.webhook")
    ) throws(MailError) {
        let parsed = try Self.parse(target)
        self.endpoint = parsed.endpoint
        self.path = parsed.path
        switch parsed.endpoint {
        case .tcp(_, _, let secure):
            self.url = (secure ? "https://" : "http://") + parsed.hostHeader + parsed.path
            self.display = (secure ? "https://" : "http://") + parsed.hostHeader + parsed.path
        case .unix(let socket):
            let encoded = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket
            self.url = "http+unix://\(encoded)\(parsed.path)"
            self.display = "unix:\(socket):\(parsed.path)"
        }
        self.secret = secret.map { Array($0.utf8) }
        self.timeout = timeout
        self.logger = logger
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw MailError(
                    .invalidConfiguration, "mail.webhook_ca \(caFile) does not load: \(error)", cause: error)
            }
        }
        let seconds = Int64(timeout.components.seconds)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(min(max(seconds, 1), 10)), read: .seconds(max(seconds, 1)))
        )
        configuration.httpVersion = .http1Only
        // The outbox retries with its own back-off; inside one attempt a refused connection fails at once.
        configuration.connectionPool.retryConnectionEstablishment = false
        self.configuration = configuration
    }

    private var httpClient: HTTPClient {
        client.withLock { client in
            if let client { return client }
            let made = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            client = made
            return made
        }
    }

    /// POSTs `message` as JSON.
    ///
    /// - Throws: `MailError` (`.connectionFailed`, `.timedOut`, `.badResponse`).
    public func deliver(_ message: OutboxMail) async throws {
        let body = try Self.payload(message)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "portero")
        if case .unix = endpoint { request.headers.replaceOrAdd(name: "Host", value: "localhost") }
        request.headers.add(name: "Idempotency-Key", value: message.id.uuidString.lowercased())
        if let secret {
            request.headers.add(
                name: "X-Portero-Signature",
                value: Self.signature(secret: secret, body: body, at: Int64(Date().timeIntervalSince1970)))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: UInt
        do {
            let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
            status = response.status.code
            // Read (and bound) the answer so the connection can be reused; its content is not looked at.
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .readTimeout
            || error == .connectTimeout
        {
            throw MailError(.timedOut, "mail webhook \(display) did not answer within \(timeout)", cause: error)
        } catch is CancellationError {
            throw MailError(.cancelled, "delivery to mail webhook \(display) cancelled")
        } catch {
            throw MailError(.connectionFailed, "mail webhook \(display) cannot be reached: \(error)", cause: error)
        }
        guard (200...299).contains(status) else {
            throw MailError(.badResponse, "mail webhook \(display) answered HTTP \(status)")
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

    /// Closes the pooled connections; the next delivery would open a new client.
    public func shutdown() async {
        let used = client.withLock { client in
            defer { client = nil }
            return client
        }
        try? await used?.shutdown()
    }

    /// `t=<at>,v1=<hex HMAC-SHA256(secret, "<at>." + body)>`.
    public static func signature(secret: [UInt8], body: [UInt8], at: Int64) -> String {
        let signed = Array("\(at).".utf8) + body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret))
        let digits = Array("0123456789abcdef")
        return "t=\(at),v1=" + String(mac.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
    }

    // MARK: - Payload

    private struct Payload: Encodable {
        var to: String
        var subject: String
        var text: String
        var html: String?
        var kind: String
        var code: String?
        var userID: String?

        enum CodingKeys: String, CodingKey {
            case to, subject, text, html, kind, code
            case userID = "user_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(to, forKey: .to)
            try container.encode(subject, forKey: .subject)
            try container.encode(text, forKey: .text)
            // Only when the message has an HTML part, so receivers of SPEC's six fields see nothing new otherwise.
            try container.encodeIfPresent(html, forKey: .html)
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
            html: message.html,
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
        let secure = lowered.hasPrefix("https://")
        guard secure || lowered.hasPrefix("http://") else {
            throw invalid("must start with http://, https:// or unix:")
        }
        let rest = target.dropFirst(secure ? "https://".count : "http://".count)
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
        var port: UInt16 = secure ? 443 : 80
        if let portText {
            guard let value = UInt16(portText), value > 0 else { throw invalid("has an invalid port") }
            port = value
        }
        let target = path.hasPrefix("#") ? "/" : (path.isEmpty ? "/" : String(path.prefix { $0 != "#" }))
        let requestTarget = target.hasPrefix("?") ? "/" + target : target
        return (
            .tcp(host: String(host), port: port, secure: secure), try requestPath(Substring(requestTarget), invalid),
            String(authority)
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
