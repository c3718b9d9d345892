public import Foundation

/// An error a client can be told about: it carries the SPEC §3 error code, a human message and the extra fields
/// of the answer. It never carries a secret (password, code, token, hash).
///
/// The HTTP module maps each code to its status in one place (`PorteroError+HTTPResponseError.swift`).
public struct PorteroError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The SPEC §3 error codes.
    public enum Code: String, Sendable, CaseIterable {
        case validationError = "validation_error"
        case invalidCode = "invalid_code"
        case invalidCredentials = "invalid_credentials"
        case missingToken = "missing_token"
        case invalidToken = "invalid_token"
        case tokenExpired = "token_expired"
        case tokenRevoked = "token_revoked"
        case refreshTokenReused = "refresh_token_reused"
        case accountNotVerified = "account_not_verified"
        case forbidden
        case insufficientRole = "insufficient_role"
        case notFound = "not_found"
        case userNotFound = "user_not_found"
        case sessionNotFound = "session_not_found"
        case userExists = "user_exists"
        case alreadyVerified = "already_verified"
        case mailNotRetryable = "mail_not_retryable"
        case methodNotAllowed = "method_not_allowed"
        case payloadTooLarge = "payload_too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case headersTooLarge = "request_header_fields_too_large"
        case accountLocked = "account_locked"
        case rateLimited = "rate_limited"
        case unavailable
        case internalError = "internal_error"
    }

    /// Extra top-level fields of the error body.
    public enum Extra: Sendable, Equatable {
        /// `fields: {name: reason}` of a validation error.
        case fields([String: String])
        /// `locked_until` of a 423.
        case lockedUntil(Date)
        /// `retry_after` (seconds) of a 429.
        case retryAfter(Int)
        /// `needs_verification: true` of a 403.
        case needsVerification
        /// The methods a path does have, sent as `Allow` with a 405.
        case allowedMethods([String])
    }

    public let code: Code
    public let message: String
    public let extra: Extra?
    /// Where the error was made, for logs only.
    public let file: String
    public let line: Int

    public init(_ code: Code, _ message: String, extra: Extra? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.extra = extra
        self.file = file
        self.line = line
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func == (lhs: PorteroError, rhs: PorteroError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.extra == rhs.extra
    }
}

extension PorteroError {
    /// A 400 naming the fields that are wrong and why.
    public static func validation(_ fields: [String: String], file: String = #fileID, line: Int = #line) -> Self {
        let names = fields.keys.sorted().joined(separator: ", ")
        let message = fields.isEmpty ? "The request is not valid." : "Invalid or missing field(s): \(names)."
        return .init(.validationError, message, extra: .fields(fields), file: file, line: line)
    }

    /// A 400 for a body that is not a JSON object.
    public static func malformedBody(_ reason: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.validationError, reason, extra: .fields(["body": reason]), file: file, line: line)
    }

    /// A 503: the store cannot acknowledge writes.
    public static func unavailable(file: String = #fileID, line: Int = #line) -> Self {
        .init(
            .unavailable,
            "The service cannot store changes right now; nothing was saved. Try again later.",
            file: file,
            line: line
        )
    }
}
