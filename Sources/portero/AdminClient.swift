import ArgumentParser
import Foundation
import Glibc
import PorteroServer

/// Where the admin commands find the daemon: `--socket`, else the configuration's `socket` (flags, env, file).
struct AdminOptions: ParsableArguments {
    @Option(name: .customLong("socket"), help: "The daemon's Unix socket (default: the configured socket).")
    var socket: String?

    @Option(name: .customLong("config"), help: "Config file (default /etc/portero/portero.yaml if it exists).")
    var configPath: String?

    @Flag(name: .customLong("json"), help: "Print the API's JSON answer (for scripts) instead of a table.")
    var json = false

    /// The socket to ask: the flag, else the configured one; when that does not exist and the packaged daemon's
    /// does, the packaged daemon's (a non-root admin's defaults name a socket in their own state directory).
    func socketPath() async throws -> String {
        if let socket, !socket.isEmpty { return socket }
        let configuration = try await CommandSupport.loadConfiguration(configPath: configPath, values: [:])
        let packaged = "/run/portero/portero.sock"
        guard let configured = configuration.listeners.socketPath else {
            if FileManager.default.fileExists(atPath: packaged) { return packaged }
            throw CommandSupport.fail("no Unix socket is configured (socket is empty): pass --socket PATH")
        }
        if !FileManager.default.fileExists(atPath: configured), FileManager.default.fileExists(atPath: packaged) {
            return packaged
        }
        return configured
    }

    /// A client for the socket.
    func client() async throws -> AdminClient {
        AdminClient(socketPath: try await socketPath())
    }
}

/// A minimal HTTP/1.1 client for the admin API over the daemon's Unix socket: one request per connection.
struct AdminClient {
    let socketPath: String

    struct Answer {
        var status: Int
        var body: Data
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request and returns a 2xx answer; anything else exits 1 with one line naming the socket and
    /// what to do (`forbidden`, when given, is the line for a 403).
    func call(_ method: String, _ path: String, json body: [String: Any]? = nil, forbidden: String? = nil) throws
        -> Answer
    {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        return try checked(try exchangeRaw(method, path, body: payload), forbidden: forbidden)
    }

    /// Sends one request with a body as given and returns whatever the daemon answered; a daemon that cannot be
    /// reached exits 1 with one line naming the socket.
    func exchangeRaw(_ method: String, _ path: String, body: Data) throws -> Answer {
        do {
            return try exchange(method: method, path: path, body: body)
        } catch let error as ConnectError {
            throw CommandSupport.fail(error.line(socketPath))
        }
    }

    /// The answer if it is a 2xx; anything else exits 1 with one line saying what the daemon said (`forbidden`,
    /// when given, is the line for a 403).
    func checked(_ answer: Answer, forbidden: String? = nil) throws -> Answer {
        guard (200..<300).contains(answer.status) else {
            let code = answer.json?["error"] as? String
            let message = (answer.json?["message"] as? String) ?? "HTTP \(answer.status)"
            if code == "forbidden", let forbidden {
                throw CommandSupport.fail(
                    "access denied by the daemon at \(socketPath) for uid \(getuid()): " + forbidden)
            }
            if code == "forbidden" {
                throw CommandSupport.fail(
                    "access denied by the daemon at \(socketPath) for uid \(getuid()): run as root, as the daemon's "
                        + "user, or as a member of its admin_group")
            }
            var line = message
            if let fields = answer.json?["fields"] as? [String: Any], !fields.isEmpty {
                line += " " + fields.keys.sorted().map { "\($0): \(fields[$0] ?? "")" }.joined(separator: "; ")
            }
            throw CommandSupport.fail(line)
        }
        return answer
    }

    /// A path segment: an id or an email address, percent-encoded.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~@+")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A query string from the parameters that are set.
    static func query(_ items: [(String, String?)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~@")
        let parts = items.compactMap { name, value in
            value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" }
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    struct ConnectError: Error {
        let errno: Int32
        func line(_ socket: String) -> String {
            switch errno {
            case ENOENT, ECONNREFUSED:
                "the daemon is not running at \(socket): start it (systemctl start portero) or pass --socket PATH"
            case EACCES, EPERM:
                "access denied to \(socket): run as root or as a member of the daemon's admin_group (socket_mode "
                    + "must let that group in)"
            default:
                "cannot talk to the daemon at \(socket): \(String(cString: strerror(errno)))"
            }
        }
    }

    private func exchange(method: String, path: String, body: Data) throws -> Answer {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConnectError(errno: errno) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ConnectError(errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw ConnectError(errno: errno) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        request += "User-Agent: portero-cli\r\nAccept: application/json\r\n"
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
            request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        request += "\r\n"
        let out = Array(request.utf8) + Array(body)
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ConnectError(errno: errno) }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw ConnectError(errno: errno) }
            if n == 0 { break }
            received.append(contentsOf: buffer[..<n])
        }
        return try Self.parse(received)
    }

    /// Status line, headers, and a body by `Content-Length`, chunks, or up to the close.
    static func parse(_ bytes: [UInt8]) throws -> Answer {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw ConnectError(errno: EPROTO)
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ConnectError(errno: EPROTO) }
        var body = Array(bytes[(end + 4)...])
        let chunked = head.dropFirst().contains {
            $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked")
        }
        if chunked {
            var decoded: [UInt8] = []
            var index = 0
            while let lineEnd = body[index...].indices.first(where: { body[$0...].starts(with: [13, 10]) }) {
                let sizeText = String(decoding: body[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { break }
                if size == 0 { break }
                let start = lineEnd + 2
                guard start + size <= body.count else { break }
                decoded.append(contentsOf: body[start..<(start + size)])
                index = start + size + 2
                if index >= body.count { break }
            }
            body = decoded
        }
        return Answer(status: status, body: Data(body))
    }
}

/// Plain-text tables for people.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// A JSON value as a cell: `-` for null or absent.
    static func cell(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: "-"
        case let text as String: text.isEmpty ? "-" : text
        case let list as [Any]: list.map { "\($0)" }.joined(separator: ",")
        case let value?: "\(value)"
        }
    }

    /// A JSON boolean as `yes`/`no`.
    static func yesNo(_ value: Any?) -> String {
        (value as? Bool) == true ? "yes" : "no"
    }

    /// Prints the answer's JSON as it came.
    static func printJSON(_ answer: AdminClient.Answer) {
        FileHandle.standardOutput.write(answer.body.isEmpty ? Data("{}".utf8) : answer.body)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}
