import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One SMTP reply: its three-digit code and the text of its lines.
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    /// The RFC 3463 enhanced status code (`5.1.1`) at the start of the first line, if any: safe to log, unlike the
    /// free text, which servers fill with the recipient's address.
    var enhancedCode: String? {
        guard let first = lines.first?.split(separator: " ").first else { return nil }
        let parts = first.split(separator: ".")
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        return String(first)
    }

    /// `550` or `550 5.1.1`.
    var summary: String { enhancedCode.map { "\(code) \($0)" } ?? String(code) }
}

/// Splits the byte stream into SMTP replies (RFC 5321 §4.2): `NNN-text` lines continue a reply, `NNN text` ends it.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    private var lines: [String] = []
    private static let maxLine = 4096
    private static let maxLines = 200

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maxLine {
                throw MailError(.badResponse, "SMTP server sent an overlong line")
            }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex + 1
        guard let bytes = buffer.readBytes(length: length) else { return .needMoreData }
        var line = bytes.dropLast()
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let digits = line.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let code = Int(String(decoding: digits, as: UTF8.self))
        else {
            throw MailError(.badResponse, "SMTP server sent something that is not a reply")
        }
        let separator = line.dropFirst(3).first
        lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        if separator == UInt8(ascii: "-") {
            guard lines.count <= Self.maxLines else { throw MailError(.badResponse, "SMTP reply has too many lines") }
            return .continue
        }
        let reply = SMTPReply(code: code, lines: lines)
        lines = []
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Hands the decoded replies to the async side, and ends their stream with the connection's error or close.
final class SMTPReplyHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = SMTPReply

    let replies: AsyncThrowingStream<SMTPReply, any Error>.Continuation

    init(replies: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.replies = replies
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        replies.yield(Self.unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        replies.finish(throwing: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        replies.finish()
        context.fireChannelInactive()
    }
}

/// A TCP connection to an SMTP server: send a line, read the next reply, switch to TLS in place (STARTTLS).
///
/// Every read is bounded by the connection's deadline: when it passes, the channel is closed and the read throws
/// `.timedOut`.
final class SMTPConnection {
    private let channel: any Channel
    private var replies: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator
    private let deadline: ContinuousClock.Instant
    private let timer: Scheduled<Void>
    let server: String

    private init(
        channel: any Channel, replies: AsyncThrowingStream<SMTPReply, any Error>, deadline: ContinuousClock.Instant,
        timeout: Duration, server: String
    ) {
        self.channel = channel
        self.replies = replies.makeAsyncIterator()
        self.deadline = deadline
        self.server = server
        self.timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
        }
    }

    /// Connects to `host:port`; with `tls`, the TLS handshake starts at once (implicit TLS, port 465).
    static func connect(
        host: String, port: Int, tls: NIOSSLContext?, serverHostname: String?, timeout: Duration
    ) async throws -> SMTPConnection {
        let server = "\(host):\(port)"
        let deadline = ContinuousClock.now + timeout
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: SMTPReply.self, throwing: (any Error).self)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(TimeAmount(min(timeout, .seconds(10))))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(replies: continuation))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw MailError(.connectionFailed, "SMTP server \(server) cannot be reached: \(error)", cause: error)
        }
        return SMTPConnection(channel: channel, replies: stream, deadline: deadline, timeout: timeout, server: server)
    }

    /// The next reply.
    func reply() async throws -> SMTPReply {
        do {
            if let reply = try await replies.next() { return reply }
        } catch let error as MailError {
            throw error
        } catch {
            if ContinuousClock.now >= deadline { throw timedOut() }
            throw MailError(.connectionFailed, "SMTP connection to \(server) failed: \(error)", cause: error)
        }
        if ContinuousClock.now >= deadline { throw timedOut() }
        throw MailError(.connectionFailed, "SMTP server \(server) closed the connection")
    }

    private func timedOut() -> MailError {
        MailError(.timedOut, "SMTP server \(server) did not finish in time")
    }

    /// Writes `bytes` as they are (they end in CRLF).
    func send(_ bytes: [UInt8]) async throws {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        } catch {
            if ContinuousClock.now >= deadline { throw timedOut() }
            throw MailError(.connectionFailed, "SMTP connection to \(server) failed: \(error)", cause: error)
        }
    }

    /// Puts TLS under the SMTP stream: the handler goes first in the pipeline and shakes hands at once.
    func startTLS(_ context: NIOSSLContext, serverHostname: String?) async throws {
        try await channel.eventLoop.submit { [channel] in
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLClientHandler(context: context, serverHostname: serverHostname), position: .first)
        }.get()
    }

    func close() async {
        timer.cancel()
        try? await channel.close()
    }
}
