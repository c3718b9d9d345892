import Logging
import HTTPTypes
public import Hummingbird
import PorteroCore

/// The outermost middleware: gives every request an id, turns every error into SPEC §3's JSON shape, and puts
/// `X-Request-Id` on every answer, errors included.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    public func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let sent = request.headers[.xRequestID], RequestIdentifier.isAcceptable(sent) {
            context.requestID = sent
        }
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        let requestID = context.requestID
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = ErrorResponder.response(for: error, request: request, context: context)
        }
        response.headers[.xRequestID] = requestID
        return response
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
}
