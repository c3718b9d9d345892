public import Hummingbird
public import PorteroCore

/// A request body read as a JSON object with ``StrictJSONParser``, and typed field access that collects every
/// problem into one 400 `validation_error` with `fields: {name: reason}`.
public struct JSONBody: Sendable {
    public let members: [String: JSONValue]
    private var problems: [String: String] = [:]

    init(members: [String: JSONValue]) {
        self.members = members
    }

    /// Parses the (already size-limited) body. An empty body is an empty object, so routes whose fields are all
    /// optional accept it; required fields then report themselves as missing.
    public static func parse(_ request: Request) async throws -> JSONBody {
        let buffer = try await request.body.collect(upTo: BodyLimitMiddleware<AppRequestContext>.maximumBodySize)
        let bytes = buffer.readableBytesView
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return JSONBody(members: [:])
        }
        let value: JSONValue
        do {
            value = try StrictJSONParser().parse(bytes)
        } catch {
            throw PorteroError.malformedBody("The body is not valid JSON: \(error.reason).")
        }
        guard case .object(let members) = value else {
            throw PorteroError.malformedBody("The body must be a JSON object, not \(value.typeName).")
        }
        return JSONBody(members: members)
    }

    /// A string field (or the first alias present). Missing → nil; wrong type or control characters → a problem.
    public mutating func string(_ name: String, aliases: [String] = [], required: Bool, allowNewlines: Bool = false)
        -> String?
    {
        let key = ([name] + aliases).first { members[$0] != nil && members[$0] != .null }
        guard let key, let value = members[key] else {
            if required { problems[name] = "is required" }
            return nil
        }
        guard case .string(let text) = value else {
            problems[name] = "must be a string"
            return nil
        }
        if text.unicodeScalars.contains(where: { $0.value == 0 || (!allowNewlines && Self.isControl($0)) }) {
            problems[name] = "must not contain control characters"
            return nil
        }
        if required && text.isEmpty {
            problems[name] = "must not be empty"
            return nil
        }
        return text
    }

    /// An email field, validated.
    public mutating func email(_ name: String = "email") -> Email? {
        guard let text = string(name, required: true) else { return nil }
        do {
            return try Email(validating: text)
        } catch {
            problems[name] = error.reason
            return nil
        }
    }

    /// A 6-digit code field.
    public mutating func code(_ name: String = "code") -> String? {
        guard let text = string(name, required: true) else { return nil }
        let trimmed = text.trimmingSpaces()
        guard trimmed.utf8.count == 6, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            problems[name] = "must be 6 digits"
            return nil
        }
        return trimmed
    }

    /// Records a problem found by the caller.
    public mutating func problem(_ name: String, _ reason: String) {
        problems[name] = reason
    }

    /// Throws the collected problems as one 400.
    public func finish() throws(PorteroError) {
        if !problems.isEmpty { throw PorteroError.validation(problems) }
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
