#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error from a mail transport: a kind (`code`), a one-line message, an optional cause, and where it was thrown.
///
/// - Important: the message never contains the mail's body or its one-time code, so it is safe to log.
public struct MailError: Error, CustomStringConvertible, Sendable {
    /// The kind of error; compare with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidConfiguration
            case invalidHeader
            case io
            case spawnFailed
            case commandFailed
            case timedOut
            case connectionFailed
            case badResponse
            case cancelled
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A transport was configured with something it cannot use (an `https://` webhook, an empty command, ...).
        public static var invalidConfiguration: Self { Self(.invalidConfiguration) }
        /// A header value holds CR, LF, NUL or another control character (header injection), or is empty.
        public static var invalidHeader: Self { Self(.invalidHeader) }
        /// A file-system call failed (Maildir delivery).
        public static var io: Self { Self(.io) }
        /// The sendmail command could not be started.
        public static var spawnFailed: Self { Self(.spawnFailed) }
        /// The sendmail command exited non-zero or was killed by a signal.
        public static var commandFailed: Self { Self(.commandFailed) }
        /// The transport did not finish in time; a sendmail command was killed.
        public static var timedOut: Self { Self(.timedOut) }
        /// The webhook could not be reached, or the connection broke.
        public static var connectionFailed: Self { Self(.connectionFailed) }
        /// The webhook answered something other than a 2xx HTTP response.
        public static var badResponse: Self { Self(.badResponse) }
        /// The delivering task was cancelled.
        public static var cancelled: Self { Self(.cancelled) }

        public var description: String {
            switch base {
            case .invalidConfiguration: "invalidConfiguration"
            case .invalidHeader: "invalidHeader"
            case .io: "io"
            case .spawnFailed: "spawnFailed"
            case .commandFailed: "commandFailed"
            case .timedOut: "timedOut"
            case .connectionFailed: "connectionFailed"
            case .badResponse: "badResponse"
            case .cancelled: "cancelled"
            }
        }
    }

    /// The kind of error.
    public let code: Code
    /// One line for a human; never the mail's body or code.
    public let message: String
    /// The underlying error, if any (a `MailSystemError` for failed system calls).
    public let cause: (any Error)?
    /// Source file that threw.
    public let file: String
    /// Source line that threw.
    public let line: Int

    init(_ code: Code, _ message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String {
        message
    }
}

/// A failed system call: its name and `errno`.
public struct MailSystemError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The call that failed, e.g. `"fsync"`.
    public let call: String
    /// The `errno` it left.
    public let errno: Int32

    init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

extension MailError {
    /// A file-system failure at `path`.
    static func io(_ what: String, path: String, _ cause: MailSystemError, file: String = #fileID, line: Int = #line)
        -> Self
    {
        Self(.io, "\(what) \(path): \(cause)", cause: cause, file: file, line: line)
    }
}
