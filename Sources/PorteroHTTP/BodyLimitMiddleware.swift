import Foundation
public import Hummingbird
import NIOCore
import PorteroCore

/// Reads request bodies up to 64 KiB whatever `Content-Length` says (413 beyond), and refuses a body that is not
/// JSON (415) — except that the paths in `formPaths` (RFC 7662 introspection, the sign-in page) also take
/// `application/x-www-form-urlencoded`, and the paths in `ignoredBodyPaths` (forward-auth, whose proxy may pass on
/// the original request's body) take any body and never read it. Handlers then find the whole body in
/// `request.body`.
public struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// SPEC §3: bodies over 64 KiB are 413.
    public static var maximumBodySize: Int { 64 * 1024 }

    /// Paths whose body may also be a form.
    let formPaths: Set<String>
    /// Paths whose body, whatever its type, is not looked at.
    let ignoredBodyPaths: Set<String>

    public init(formPaths: Set<String> = [], ignoredBodyPaths: Set<String> = []) {
        self.formPaths = formPaths
        self.ignoredBodyPaths = ignoredBodyPaths
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var request = request
        if let length = request.headers[.contentLength], let declared = Int(length), declared > Self.maximumBodySize {
            throw PorteroError(.payloadTooLarge, "The request body is larger than 64 KiB.")
        }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumBodySize)
        } catch is NIOTooManyBytesError {
            throw PorteroError(.payloadTooLarge, "The request body is larger than 64 KiB.")
        }
        let contentType = request.headers[.contentType]
        let path = request.uri.path
        if body.readableBytes > 0 && !Self.isJSON(contentType) && !ignoredBodyPaths.contains(path)
            && !(formPaths.contains(path) && FormBody.isForm(contentType))
        {
            throw PorteroError(.unsupportedMediaType, "The request body must be JSON (Content-Type: application/json).")
        }
        return try await next(request, context)
    }

    /// `application/json`, optionally with `charset=utf-8`; nothing else.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard parts.first == "application/json" else { return false }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0] == "charset", pair[1] == "utf-8" || pair[1] == "\"utf-8\"" else {
                return false
            }
        }
        return true
    }
}
