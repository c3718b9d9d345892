import Foundation
public import Hummingbird
public import PorteroCore

/// A request body read as `application/x-www-form-urlencoded` (the form of RFC 7662 introspection and of the
/// sign-in page): each name given at most once, values percent-decoded with `+` as a space; a malformed body or
/// field is 400 `validation_error`.
public struct FormBody: Sendable {
    public let fields: [String: String]

    /// The form's media type.
    public static let mediaType = "application/x-www-form-urlencoded"

    /// Whether `contentType` is a form (parameters such as `charset=utf-8` are allowed).
    public static func isForm(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        return type == mediaType
    }

    /// Parses the (already size-limited) body.
    public static func parse(_ request: Request) async throws -> FormBody {
        let buffer = try await request.body.collect(upTo: BodyLimitMiddleware<AppRequestContext>.maximumBodySize)
        return try parse(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    static func parse(_ text: String) throws(PorteroError) -> FormBody {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), !name.isEmpty else {
                throw PorteroError.malformedBody("The form body is malformed.")
            }
            guard let value = decode(parts.count == 2 ? parts[1] : "") else {
                throw PorteroError.validation([name: "is not valid percent-encoding"])
            }
            guard fields[name] == nil else { throw PorteroError.validation([name: "must be given once"]) }
            guard !value.unicodeScalars.contains(where: JSONBody.isControl) else {
                throw PorteroError.validation([name: "must not contain control characters"])
            }
            fields[name] = value
        }
        return FormBody(fields: fields)
    }

    private static func decode(_ part: Substring) -> String? {
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
