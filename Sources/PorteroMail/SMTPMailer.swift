public import Foundation
public import Logging
import NIOCore
public import NIOSSL
public import PorteroCore

/// Delivers messages by SMTP submission (RFC 5321, RFC 6409) to one server, with SwiftNIO doing the I/O and
/// swift-nio-ssl the TLS.
///
/// Each message gets its own connection: greeting, `EHLO`, `STARTTLS` and `EHLO` again (``Security/starttls``),
/// `AUTH PLAIN` or `AUTH LOGIN` when a user name is set, `MAIL FROM`, `RCPT TO`, `DATA` with the RFC 5322 message
/// (CRLF, dot-stuffed), `QUIT`. The server's certificate is checked against the system trust store or the
/// configured CA, and against the host name (or IP address). With ``Security/starttls`` a server that does not
/// offer `STARTTLS` is refused rather than spoken to in clear text.
///
/// Errors name the server, the step and the reply code (with its enhanced status code), never the server's free
/// text, which often repeats the recipient's address, and never the password.
public struct SMTPMailer: Mailer {
    /// How the connection is protected.
    public enum Security: String, Sendable, CaseIterable {
        /// Plain TCP, then `STARTTLS` (required).
        case starttls
        /// TLS from the first byte (port 465).
        case tls
        /// No TLS at all: for a relay on loopback only.
        case none
    }

    /// Where and how to submit.
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var security: Security
        public var username: String?
        public var password: String?
        /// A PEM file of the CA that signs the server's certificate; the system trust store when nil.
        public var caFile: String?
        /// The `From` header value (`mail.from`); its address is also the envelope sender.
        public var from: String
        /// How long one delivery may take, connecting included.
        public var timeout: Duration

        public init(
            host: String, port: Int, security: Security, username: String? = nil, password: String? = nil,
            caFile: String? = nil, from: String, timeout: Duration = .seconds(30)
        ) {
            self.host = host
            self.port = port
            self.security = security
            self.username = username
            self.password = password
            self.caFile = caFile
            self.from = from
            self.timeout = timeout
        }
    }

    public let settings: Settings
    private let tls: NIOSSLContext?
    private let hostname: String
    private let logger: Logger

    /// - Throws: `MailError` `.invalidConfiguration` when the CA file does not load or a user name comes without a
    ///   password.
    public init(settings: Settings, hostname: String? = nil, logger: Logger = Logger(label: "portero.mail.smtp"))
        throws(MailError)
    {
        self.settings = settings
        self.hostname = hostname ?? HostName.current()
        self.logger = logger
        if settings.username != nil && (settings.password ?? "").isEmpty {
            throw MailError(.invalidConfiguration, "mail.smtp.username is set but mail.smtp.password is not")
        }
        guard settings.security != .none else {
            self.tls = nil
            return
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile = settings.caFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw MailError(.invalidConfiguration, "mail.smtp.ca \(caFile) does not load: \(error)", cause: error)
            }
        }
        do {
            self.tls = try NIOSSLContext(configuration: configuration)
        } catch {
            throw MailError(.invalidConfiguration, "SMTP TLS cannot be set up: \(error)", cause: error)
        }
    }

    /// The name sent for SNI and checked against the certificate: nil for an IP address, whose check NIOSSL makes
    /// against the address connected to.
    private var serverHostname: String? {
        let host = settings.host
        if host.contains(":") || host.split(separator: ".").allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
            return nil
        }
        return host
    }

    /// Submits `message`.
    ///
    /// - Throws: `MailError` (`.invalidHeader`, `.connectionFailed`, `.timedOut`, `.badResponse`).
    public func deliver(_ message: OutboxMail) async throws {
        let rfc5322 = try RFC5322Message(message, from: settings.from, date: Date(), messageIDDomain: hostname)
        let sender = Self.address(in: settings.from)
        let connection = try await SMTPConnection.connect(
            host: settings.host, port: settings.port, tls: settings.security == .tls ? tls : nil,
            serverHostname: serverHostname, timeout: settings.timeout)
        do {
            try await submit(rfc5322, from: sender, to: message.to, over: connection)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
        logger.debug(
            "mail submitted by SMTP",
            metadata: ["mail.transport": "smtp", "mail.id": "\(message.id)", "mail.kind": "\(message.kind)"]
        )
    }

    /// Connects, greets and (when asked) authenticates, then says goodbye, within 10 seconds: the start-up check
    /// that the server answers and accepts the credentials.
    public func check() async throws {
        let connection = try await SMTPConnection.connect(
            host: settings.host, port: settings.port, tls: settings.security == .tls ? tls : nil,
            serverHostname: serverHostname, timeout: min(settings.timeout, .seconds(10)))
        do {
            _ = try await open(connection)
            try await connection.send(Array("QUIT\r\n".utf8))
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Greeting, EHLO, STARTTLS and AUTH; returns the server's extensions.
    private func open(_ connection: SMTPConnection) async throws -> Set<String> {
        try expect(await connection.reply(), 220, "greeting", connection)
        var extensions = try await ehlo(connection)
        if settings.security == .starttls, let tls {
            guard extensions.contains("STARTTLS") else {
                throw MailError(
                    .connectionFailed,
                    "SMTP server \(connection.server) does not offer STARTTLS (mail.smtp.tls is starttls; "
                        + "use tls for port 465, or none for a relay on loopback)")
            }
            try await command("STARTTLS", expecting: 220, connection)
            try await connection.startTLS(tls, serverHostname: serverHostname)
            extensions = try await ehlo(connection)
        }
        if let username = settings.username, let password = settings.password {
            try await authenticate(username: username, password: password, extensions: extensions, connection)
        }
        return extensions
    }

    private func submit(
        _ message: RFC5322Message, from sender: String, to recipient: String, over connection: SMTPConnection
    )
        async throws
    {
        let extensions = try await open(connection)
        let body = extensions.contains("8BITMIME") ? " BODY=8BITMIME" : ""
        let utf8 =
            (sender + recipient).utf8.contains { $0 >= 0x80 } && extensions.contains("SMTPUTF8") ? " SMTPUTF8" : ""
        try await command("MAIL FROM:<\(sender)>\(body)\(utf8)", expecting: 250, connection, step: "MAIL FROM")
        try await command("RCPT TO:<\(recipient)>", expecting: 250, connection, step: "RCPT TO", alsoAccept: 251)
        try await command("DATA", expecting: 354, connection)
        try await connection.send(Self.dotStuffed(message.bytes(lineEnding: .crlf)))
        try expect(await connection.reply(), 250, "message", connection)
        try? await connection.send(Array("QUIT\r\n".utf8))
        _ = try? await connection.reply()
    }

    private func ehlo(_ connection: SMTPConnection) async throws -> Set<String> {
        try await connection.send(Array("EHLO \(hostname)\r\n".utf8))
        let reply = try await connection.reply()
        try expect(reply, 250, "EHLO", connection)
        var extensions: Set<String> = []
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" })
            guard let name = words.first else { continue }
            extensions.insert(String(name))
            if name == "AUTH" { for mechanism in words.dropFirst() { extensions.insert("AUTH " + mechanism) } }
        }
        return extensions
    }

    private func authenticate(username: String, password: String, extensions: Set<String>, _ connection: SMTPConnection)
        async throws
    {
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if extensions.contains("AUTH PLAIN") {
            try await command(
                "AUTH PLAIN " + base64("\u{0}\(username)\u{0}\(password)"), expecting: 235, connection,
                step: "AUTH PLAIN")
        } else if extensions.contains("AUTH LOGIN") {
            try await command("AUTH LOGIN", expecting: 334, connection)
            try await command(base64(username), expecting: 334, connection, step: "AUTH LOGIN user name")
            try await command(base64(password), expecting: 235, connection, step: "AUTH LOGIN password")
        } else {
            throw MailError(
                .connectionFailed,
                "SMTP server \(connection.server) offers neither AUTH PLAIN nor AUTH LOGIN"
                    + (settings.security == .none ? " (many servers offer AUTH only after STARTTLS)" : ""))
        }
    }

    /// Sends `line` and checks the reply; `step` names it in errors (never the line itself, which may hold the
    /// credentials).
    private func command(
        _ line: String, expecting code: Int, _ connection: SMTPConnection, step: String? = nil, alsoAccept: Int? = nil
    ) async throws {
        guard !line.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
            throw MailError(.invalidHeader, "SMTP \(step ?? line) refused: it contains CR, LF or NUL")
        }
        try await connection.send(Array((line + "\r\n").utf8))
        let reply = try await connection.reply()
        if let alsoAccept, reply.code == alsoAccept { return }
        try expect(reply, code, step ?? line, connection)
    }

    private func expect(_ reply: SMTPReply, _ code: Int, _ step: String, _ connection: SMTPConnection) throws {
        guard reply.code == code else {
            throw MailError(.badResponse, "SMTP server \(connection.server) answered \(step) with \(reply.summary)")
        }
    }

    /// The address inside `Name <address>`, or the whole value.
    static func address(in from: String) -> String {
        if let open = from.lastIndex(of: "<"), let close = from.lastIndex(of: ">"), open < close {
            return String(from[from.index(after: open)..<close])
        }
        return from.trimmingCharacters(in: .whitespaces)
    }

    /// The DATA payload: a line starting with `.` gets another one (RFC 5321 §4.5.2), then the final `.` line.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 16)
        var atLineStart = true
        for byte in message {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(byte) }
            out.append(byte)
            atLineStart = byte == 10
        }
        if !atLineStart { out.append(contentsOf: [13, 10]) }
        out.append(contentsOf: Array(".\r\n".utf8))
        return out
    }
}
