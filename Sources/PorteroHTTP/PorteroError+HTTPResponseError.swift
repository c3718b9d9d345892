import PorteroFormat
import Foundation
public import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
public import PorteroCore
import HTTPTypes

/// The one place errors become HTTP: SPEC §3's status, `{"error","message",…}` body and headers.
/// Anything not mapped here is a bare 500 whose body says nothing about the inside.
enum ErrorResponder {
    static func response(for error: any Error, request: Request, context: AppRequestContext) -> Response {
        switch error {
        case let error as PorteroError:
            if error.code == .internalError || error.code == .unavailable {
                context.logger.error(
                    "request failed",
                    metadata: ["error.code": .string(error.code.rawValue), "error.at": "\(error.file):\(error.line)"]
                )
            }
            return response(for: error)
        case let error as HTTPError:
            return response(for: translate(error))
        case is NIOTooManyBytesError:
            return response(for: PorteroError(.payloadTooLarge, "The request body is larger than 64 KiB."))
        case is HTTPParserError:
            // A body that breaks HTTP framing (e.g. `Transfer-Encoding: gzip`) surfaces while it is read.
            var answer = response(for: PorteroError.malformedBody("The request is not valid HTTP."))
            answer.headers[.connection] = "close"
            return answer
        default:
            context.logger.error(
                "unexpected error", metadata: ["error.type": .string(String(describing: type(of: error)))])
            return response(for: PorteroError(.internalError, "Something went wrong on our side."))
        }
    }

    /// Hummingbird's own errors (no route, wrong method, …) in Portero's shape.
    static func translate(_ error: HTTPError) -> PorteroError {
        switch error.status {
        case .notFound: PorteroError(.notFound, "No such route.")
        case .methodNotAllowed: PorteroError(.methodNotAllowed, "This route does not accept that method.")
        case .contentTooLarge: PorteroError(.payloadTooLarge, "The request body is larger than 64 KiB.")
        case .unsupportedMediaType: PorteroError(.unsupportedMediaType, "The request body must be JSON.")
        case .badRequest: PorteroError.malformedBody("The request is malformed.")
        default: PorteroError(.internalError, "Something went wrong on our side.")
        }
    }

    static func status(of code: PorteroError.Code) -> HTTPResponse.Status {
        switch code {
        case .validationError, .invalidCode: .badRequest
        case .invalidCredentials, .missingToken, .invalidToken, .tokenExpired, .tokenRevoked, .refreshTokenReused:
            .unauthorized
        case .accountNotVerified, .forbidden, .insufficientRole: .forbidden
        case .notFound, .userNotFound, .sessionNotFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .userExists, .alreadyVerified, .mailNotRetryable: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .headersTooLarge: .init(code: 431, reasonPhrase: "Request Header Fields Too Large")
        case .accountLocked: .init(code: 423, reasonPhrase: "Locked")
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }

    static func response(for error: PorteroError) -> Response {
        let (status, body, headers) = answer(for: error)
        return JSONResponse.make(status: status, object: body, headers: headers)
    }

    /// The same answer as a response head and body bytes, for a channel handler that answers below the router
    /// (``RequestHeadErrorHandler``).
    static func responseParts(for error: PorteroError) -> (head: HTTPResponse, body: ByteBuffer) {
        let (status, body, headers) = answer(for: error)
        return JSONResponse.parts(status: status, object: body, headers: headers)
    }

    /// Status, body and headers of the answer to `error`.
    private static func answer(for error: PorteroError)
        -> (status: HTTPResponse.Status, body: [String: JSONValue], headers: HTTPFields)
    {
        var body: [String: JSONValue] = [
            "error": .string(error.code.rawValue),
            "message": .string(error.message),
        ]
        var headers = HTTPFields()
        switch error.extra {
        case .fields(let fields)?:
            body["fields"] = .object(fields.mapValues { .string($0) })
        case .lockedUntil(let date)?:
            body["locked_until"] = .string(UTCTimestamp.seconds(date))
        case .retryAfter(let seconds)?:
            body["retry_after"] = .number(Double(seconds))
            headers[.retryAfter] = String(seconds)
        case .needsVerification?:
            body["needs_verification"] = .bool(true)
        case .allowedMethods(let methods)?:
            headers[.allow] = methods.joined(separator: ", ")
        case nil:
            break
        }
        switch error.code {
        case .missingToken, .invalidCredentials, .refreshTokenReused:
            headers[.wwwAuthenticate] = #"Bearer realm="portero""#
        case .invalidToken, .tokenExpired, .tokenRevoked:
            let description = error.message.replacingOccurrences(of: "\"", with: "'")
            headers[.wwwAuthenticate] =
                #"Bearer realm="portero", error="invalid_token", error_description=""#
                + description + "\""
        case .unavailable:
            headers[.retryAfter] = "5"
        default:
            break
        }
        return (status(of: error.code), body, headers)
    }
}

extension PorteroError: HTTPResponseError {
    public var status: HTTPResponse.Status { ErrorResponder.status(of: code) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        ErrorResponder.response(for: self)
    }
}
