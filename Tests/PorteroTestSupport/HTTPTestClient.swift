public import Foundation

/// Where a test talks to the daemon: a TCP port on loopback or a Unix socket path.
public enum TestEndpoint: Sendable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    public var description: String {
        switch self {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}

/// One HTTP answer as bytes on the wire produced it.
public struct TestResponse: Sendable {
    public var status: Int
    /// Header names lower-cased; repeated headers joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object, or nil.
    public var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    public subscript(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a request got no answer.
public struct TestClientError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A deliberately small HTTP/1.1 client over real sockets (TCP or Unix), one connection per request with
/// `Connection: close`. URLSession cannot reach a Unix socket, and tests must also send bytes no well-behaved
/// client would (see ``raw(_:to:)``).
public enum HTTPTestClient {
    /// Sends a request and reads the whole answer. Blocking I/O runs on a Dispatch thread, never on the
    /// cooperative pool; every socket has a timeout.
    /// How long one exchange may take by default. Generous: the daemon's hash threads yield the cores to everything
    /// else (nice 10), so on a CI machine that runs the suite's daemons in parallel a login that verifies an imported
    /// PBKDF2 hash of a million rounds can take seconds; a daemon that hangs still fails the test.
    public static let defaultTimeout: TimeInterval = 30

    public static func request(
        _ method: String,
        _ path: String,
        to endpoint: TestEndpoint,
        headers: [String: String] = [:],
        json: [String: Any]? = nil,
        body: [UInt8]? = nil,
        timeout: TimeInterval = defaultTimeout
    ) async throws -> TestResponse {
        var headers = headers
        var payload = body ?? []
        if let json {
            payload = Array(try JSONSerialization.data(withJSONObject: json))
            if headers.keys.first(where: { $0.lowercased() == "content-type" }) == nil {
                headers["Content-Type"] = "application/json"
            }
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if !payload.isEmpty || ["POST", "PATCH", "PUT"].contains(method) {
            head += "Content-Length: \(payload.count)\r\n"
        }
        head += "\r\n"
        let bytes = try await raw(Array(head.utf8) + payload, to: endpoint, timeout: timeout)
        return try parse(bytes)
    }

    /// Sends exactly `bytes` and returns everything the server sent until it closed the connection.
    public static func raw(_ bytes: [UInt8], to endpoint: TestEndpoint, timeout: TimeInterval = defaultTimeout)
        async throws
        -> [UInt8]
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try exchange(bytes, endpoint: endpoint, timeout: timeout) })
            }
        }
    }

    static func exchange(_ bytes: [UInt8], endpoint: TestEndpoint, timeout: TimeInterval) throws -> [UInt8] {
        let fd = try connect(endpoint, timeout: timeout)
        defer { close(fd) }
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                // The server may answer (413) and close before reading everything we send.
                if errno == EPIPE || errno == ECONNRESET { break }
                throw TestClientError("send to \(endpoint): \(String(cString: strerror(errno)))")
            }
            sent += written
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                answer.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                break
            } else if errno == EINTR {
                continue
            } else if errno == ECONNRESET && !answer.isEmpty {
                break
            } else {
                throw TestClientError("recv from \(endpoint): \(String(cString: strerror(errno)))")
            }
        }
        return answer
    }

    static func connect(_ endpoint: TestEndpoint, timeout: TimeInterval) throws -> Int32 {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        switch endpoint {
        case .tcp(let host, let port):
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestClientError("socket: \(String(cString: strerror(errno)))") }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard result == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw TestClientError("connect to \(endpoint): \(reason)")
            }
            return fd
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestClientError("socket: \(String(cString: strerror(errno)))") }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let pathBytes = Array(path.utf8)
            guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close(fd)
                throw TestClientError("socket path too long: \(path)")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in pathBytes.enumerated() { raw[index] = byte }
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard result == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw TestClientError("connect to \(endpoint): \(reason)")
            }
            return fd
        }
    }

    /// Parses a full HTTP/1.1 answer (Content-Length or chunked body).
    public static func parse(_ bytes: [UInt8]) throws -> TestResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = bytes.firstRange(of: separator) else {
            throw TestClientError("no complete HTTP head in \(bytes.count) bytes")
        }
        let head = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw TestClientError("bad status line")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        var body = Array(bytes[headEnd.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            body = try dechunk(body)
        } else if let length = headers["content-length"].flatMap(Int.init), body.count > length {
            body = Array(body[0..<length])
        }
        return TestResponse(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = bytes[index...].firstRange(of: [13, 10]) else { break }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else {
                throw TestClientError("bad chunk size")
            }
            if size == 0 { break }
            let start = lineEnd.upperBound
            guard start + size <= bytes.count else { throw TestClientError("truncated chunk") }
            output.append(contentsOf: bytes[start..<start + size])
            index = start + size + 2
        }
        return output
    }
}
