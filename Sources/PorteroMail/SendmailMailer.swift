import Dispatch
public import PorteroCore
public import Foundation
public import Logging

/// Delivers messages by running a sendmail-compatible command with the RFC 5322 message on its standard input.
///
/// The command (`mail.sendmail`, default `/usr/sbin/sendmail -t -i`) is split on whitespace into a program and its
/// arguments and run directly, with no shell: no quoting, no variables, no globbing, no redirections. A program
/// without a `/` is looked up in `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`. It runs with an
/// environment holding only that `PATH`, the default signal dispositions, standard input a socket carrying the
/// message (LF line endings, the sendmail convention), and standard output and error captured.
///
/// Delivery succeeds when the command exits 0. A non-zero exit, a signal, a spawn failure or a run longer than
/// `timeout` (the command is then killed) throws a `MailError` naming the program and quoting the first line it
/// printed, with the recipient and the code redacted; the body is never included.
public struct SendmailMailer: Mailer {
    /// The default command, as `mail.sendmail` documents.
    public static let defaultCommand = "/usr/sbin/sendmail -t -i"

    /// The program and its arguments.
    public let arguments: [String]
    /// The `From` header value.
    public let from: String
    /// How long the command may run before it is killed.
    public let timeout: Duration
    private let hostname: String
    private let logger: Logger
    private let currentDate: @Sendable () -> Date

    /// Creates a sendmail transport.
    ///
    /// - Parameters:
    ///   - command: the program and its arguments separated by whitespace (no shell).
    ///   - from: the `From` header value (`mail.from`).
    ///   - timeout: how long the command may run before it is killed.
    ///   - hostname: used in `Message-ID`s; the system's host name when nil.
    ///   - logger: logs deliveries at `debug`, with the message id and kind only.
    ///   - currentDate: the clock for the `Date` header.
    /// - Throws: `MailError` with code `.invalidConfiguration` when `command` is empty.
    public init(
        command: String = SendmailMailer.defaultCommand,
        from: String,
        timeout: Duration = .seconds(30),
        hostname: String? = nil,
        logger: Logger = Logger(label: "portero.mail.sendmail"),
        currentDate: @escaping @Sendable () -> Date = { Date() }
    ) throws(MailError) {
        let arguments = command.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard !arguments.isEmpty else {
            throw MailError(.invalidConfiguration, "mail.sendmail is empty: name a sendmail-compatible command")
        }
        self.arguments = arguments
        self.from = from
        self.timeout = timeout
        self.hostname = hostname ?? HostName.current()
        self.logger = logger
        self.currentDate = currentDate
    }

    /// Runs the command with `message` on its standard input.
    ///
    /// - Throws: `MailError` (`.invalidHeader`, `.spawnFailed`, `.commandFailed`, `.timedOut`, `.cancelled`).
    public func deliver(_ message: OutboxMail) async throws {
        let input = try RFC5322Message(message, from: from, date: currentDate(), messageIDDomain: hostname)
            .bytes(lineEnding: .lf)
        let process = SendmailProcess(arguments: arguments, timeout: timeout)
        let outcome = try await withTaskCancellationHandler {
            try await DispatchQueue.blockingWork.run { () throws(MailError) -> SendmailProcess.Outcome in
                try process.run(input)
            }
        } onCancel: {
            process.stop(.cancelled)
        }
        try check(outcome, for: message)
        logger.debug(
            "mail handed to sendmail",
            metadata: [
                "mail.transport": "sendmail",
                "mail.id": "\(message.id)",
                "mail.kind": "\(message.kind)",
            ]
        )
    }

    /// The command's program exists and is executable (looked up in the search path when it has no `/`).
    public func check() async throws {
        let name = arguments[0]
        let found =
            name.contains("/")
            ? access(name, X_OK) == 0
            : SendmailProcess.searchPath.split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
        guard found else {
            throw MailError(
                .spawnFailed,
                "sendmail command \(name) is missing or not executable"
                    + (name.contains("/") ? "" : " (looked in \(SendmailProcess.searchPath))"))
        }
    }

    private func check(_ outcome: SendmailProcess.Outcome, for message: OutboxMail) throws(MailError) {
        let program = arguments[0]
        switch outcome.termination {
        case .exited(0):
            return
        case .exited(let status):
            throw MailError(
                .commandFailed,
                "sendmail command \(program) exited with status \(status)\(said(outcome.output, message))"
            )
        case .signalled(let signal):
            throw MailError(
                .commandFailed,
                "sendmail command \(program) was killed by signal \(signal)\(said(outcome.output, message))"
            )
        case .stopped(.timedOut):
            throw MailError(.timedOut, "sendmail command \(program) did not finish within \(timeout); it was killed")
        case .unknown(let cause):
            throw MailError(
                .commandFailed,
                "sendmail command \(program) ended but its exit status could not be collected: \(cause)",
                cause: cause
            )
        case .stopped(.cancelled):
            throw MailError(.cancelled, "delivery cancelled; sendmail command \(program) was killed")
        }
    }

    /// `: "<first line of output>"` with the code and the recipient redacted, or nothing.
    private func said(_ output: [UInt8], _ message: OutboxMail) -> String {
        var text = String(decoding: output, as: UTF8.self)
        if let line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first(where: { !$0.isEmpty }) {
            text = String(line)
        } else {
            return ""
        }
        if let code = message.code, !code.isEmpty {
            text = text.replacingOccurrences(of: code, with: "[code]")
        }
        for bodyLine in message.text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            var bodyLine = bodyLine.trimmingCharacters(in: .whitespaces)
            if let code = message.code, !code.isEmpty {
                bodyLine = bodyLine.replacingOccurrences(of: code, with: "[code]")
            }
            if bodyLine.count >= 12 {
                text = text.replacingOccurrences(of: bodyLine, with: "[body]")
            }
        }
        if !message.to.isEmpty {
            text = text.replacingOccurrences(of: message.to, with: "[recipient]")
        }
        text = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        if text.count > 200 {
            text = String(text.prefix(200)) + "…"
        }
        return ": \"\(text)\""
    }
}
