import PorteroFormat
public import Foundation
public import Hummingbird
import NIOCore
public import PorteroCore

/// JSON answers with `Content-Type: application/json; charset=utf-8`.
public enum JSONResponse {
    public static let contentType = "application/json; charset=utf-8"

    /// Encodes an `Encodable` answer (snake_case keys, RFC 3339 UTC times in whole seconds).
    public static func make(status: HTTPResponse.Status = .ok, _ value: some Encodable, headers: HTTPFields = [:])
        throws -> Response
    {
        let data = try encoder.encode(value)
        return make(status: status, bytes: data, headers: headers)
    }

    /// Encodes a ``JSONValue`` object.
    public static func make(status: HTTPResponse.Status, object: [String: JSONValue], headers: HTTPFields = [:])
        -> Response
    {
        var bytes: [UInt8] = []
        JSONWriter.write(.object(object), into: &bytes)
        return make(status: status, bytes: bytes, headers: headers)
    }

    static func make(status: HTTPResponse.Status, bytes: some Sequence<UInt8>, headers: HTTPFields) -> Response {
        Response(status: status, headers: jsonHeaders(headers), body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A ``JSONValue`` object's answer as a response head (with `Content-Length`) and its body bytes.
    static func parts(status: HTTPResponse.Status, object: [String: JSONValue], headers: HTTPFields)
        -> (head: HTTPResponse, body: ByteBuffer)
    {
        var bytes: [UInt8] = []
        JSONWriter.write(.object(object), into: &bytes)
        var fields = jsonHeaders(headers)
        fields[.contentLength] = String(bytes.count)
        return (HTTPResponse(status: status, headerFields: fields), ByteBuffer(bytes: bytes))
    }

    private static func jsonHeaders(_ headers: HTTPFields) -> HTTPFields {
        var headers = headers
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        return headers
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // RFC 3339 UTC timestamps in whole seconds, as SPEC §3 shows (`2026-01-15T10:30:00Z`).
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(UTCTimestamp.seconds(date))
        }
        return encoder
    }
}

/// Serialises a ``JSONValue`` compactly with sorted keys.
enum JSONWriter {
    static func write(_ value: JSONValue, into bytes: inout [UInt8]) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e15 {
                bytes.append(contentsOf: String(Int64(number)).utf8)
            } else {
                bytes.append(contentsOf: "\(number)".utf8)
            }
        case .string(let text): writeString(text, into: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item, into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                write(members[key] ?? .null, into: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ text: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20, 0x7F:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(contentsOf: String(byte, radix: 16).leftPadded(to: 2).utf8)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
