import Foundation
import PorteroTestSupport
import Testing

/// Issue 4's hostile input against the real binary: each request gets its 4xx, and the daemon keeps serving
/// (`/healthz` after each group). Cases already in `ListenerTests` (declared and chunked bodies over 64 KiB,
/// non-JSON content types, unclosed nesting, duplicate keys and lone surrogates on /login) and `AuthErrorTests`
/// (register field checks, Unicode look-alikes at registration) are not repeated here.
@Suite("Hostile input", .serialized)
struct HostileInputTests {
    static let base = AuthFlowTests.base
    /// Rate limits off: these tests send many requests from one address on purpose.
    static let unlimited = [
        "--rate-login", "0", "--rate-register", "0", "--rate-verify", "0", "--rate-resend", "0", "--rate-forgot", "0",
    ]
    /// Every route that reads a JSON body without a bearer token.
    static let jsonRoutes = [
        "/register", "/login", "/verify-email", "/resend-verification", "/password/forgot", "/password/reset",
        "/refresh",
    ]

    static func send(_ path: String, bytes: [UInt8], to endpoint: TestEndpoint) async throws -> TestResponse {
        try await HTTPTestClient.request(
            "POST", base + path, to: endpoint, headers: ["Content-Type": "application/json"], body: bytes)
    }

    static func expectServing(_ endpoint: TestEndpoint, _ comment: Comment? = nil) async throws {
        let health = try await HTTPTestClient.request("GET", "/healthz", to: endpoint)
        #expect(health.status == 200, comment)
    }

    @Test("shapes and types: arrays, scalars, wrong types, duplicate keys, deep nesting on every JSON route")
    func shapesAndTypes() async throws {
        try await withDaemon(arguments: Self.unlimited) { daemon in
            let endpoint = try daemon.tcp
            let deepObject = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
            let deepArray = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            let bodies = [
                "[]", "[{}]", "\"x\"", "42", "-0.5e3", "null", "true", "nul", "{\"email\"}", "{,}", "{\"a\":1,}",
                "{\"email\": 5}", "{\"email\": [\"a@example.com\"]}", "{\"email\": {\"a\": 1}}", "{\"email\": true}",
                "{\"email\":\"a@example.com\",\"email\":\"b@example.com\"}", "{\"code\": 123456}",
                "{\"refresh_token\": 1}", "{\"password\": null, \"email\": null}", deepObject, deepArray,
                "{\"email\":\"a@example.com\"} trailing", "\u{FEFF}{}", "{\"email\":\"a@example.com\"}{}",
            ]
            for route in Self.jsonRoutes {
                for body in bodies {
                    let answer = try await Self.send(route, bytes: Array(body.utf8), to: endpoint)
                    #expect(answer.status == 400, "\(route) \(body.prefix(40))")
                    #expect(answer.json?["error"] as? String == "validation_error", "\(route) \(body.prefix(40))")
                }
            }
            try await Self.expectServing(endpoint)
        }
    }

    @Test("invalid UTF-8, overlong forms, encoded and escaped lone surrogates are 400")
    func badText() async throws {
        try await withDaemon(arguments: Self.unlimited) { daemon in
            let endpoint = try daemon.unix
            let prefix = Array(#"{"email":""#.utf8)
            let suffix = Array(#"@example.com","password":"long enough pass"}"#.utf8)
            let payloads: [[UInt8]] = [
                [0xFF, 0xFE], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80],
                [0xC3], Array(#"\ud800"#.utf8), Array(#"\udc00\ud800"#.utf8), Array(#"\ud800x"#.utf8),
                Array(#"\u00"#.utf8), Array(#"\x41"#.utf8),
            ]
            for route in ["/register", "/login", "/password/forgot"] {
                for payload in payloads {
                    let answer = try await Self.send(route, bytes: prefix + payload + suffix, to: endpoint)
                    #expect(answer.status == 400, "\(route) \(payload)")
                }
            }
            // Invalid UTF-8 in a query string.
            let query = try await HTTPTestClient.request(
                "GET", Self.base + "/verification-status?email=a%FF%FE@example.com", to: endpoint)
            #expect(query.status == 400 || query.status == 404)
            try await Self.expectServing(endpoint)
        }
    }

    @Test("NUL, CR/LF and other controls in every field never reach a mail header or a log line raw")
    func controlCharacters() async throws {
        try await withDaemon(arguments: Self.unlimited) { daemon in
            let endpoint = try daemon.tcp
            let client = AuthFlowTests.Client(endpoint: endpoint, daemon: daemon)
            let verified = try await client.verifiedUser("ctl@example.com", password: "control freak 2026")
            let access = try #require(verified.json?["access_token"] as? String)
            let good: [String: String] = [
                "email": "ctl@example.com", "password": "control freak 2026", "name": "Ctl", "phone": "+1 555",
                "code": "123456", "new_password": "another fine pass", "current_password": "control freak 2026",
                "refresh_token": "abc",
            ]
            let fieldsByRoute: [(String, [String])] = [
                ("/register", ["email", "password", "name", "phone"]),
                ("/login", ["email", "password"]),
                ("/verify-email", ["email", "code"]),
                ("/resend-verification", ["email"]),
                ("/password/forgot", ["email"]),
                ("/password/reset", ["email", "code", "new_password"]),
                ("/refresh", ["refresh_token"]),
            ]
            let injections = [
                "\u{0}", "\r\nBcc: evil@example.net", "\n", "\r", "\u{7F}", "\u{85}", "\u{2028}", "\u{1B}[31m",
            ]
            for (route, fields) in fieldsByRoute {
                for field in fields {
                    for injection in injections {
                        var body = Dictionary(uniqueKeysWithValues: fields.map { ($0, good[$0] ?? "") })
                        body[field] = (good[field] ?? "") + injection
                        if route == "/register" { body["email"] = body["email"].map { "new" + $0 } }
                        let answer = try await client.post(route, body)
                        #expect((400..<500).contains(answer.status), "\(route) \(field) \(injection.debugDescription)")
                        #expect(answer.status != 200 && answer.status != 201 && answer.status != 202)
                    }
                }
            }
            // Authenticated routes too.
            for injection in injections {
                let patched = try await HTTPTestClient.request(
                    "PATCH", Self.base + "/profile", to: endpoint, headers: ["Authorization": "Bearer \(access)"],
                    json: ["name": "Eve" + injection])
                #expect(patched.status == 400, "\(injection.debugDescription)")
                let changed = try await client.post(
                    "/password/change",
                    ["current_password": "control freak 2026", "new_password": "fresh pass" + injection], token: access)
                #expect(changed.status == 400, "\(injection.debugDescription)")
            }
            // Percent-encoded controls in the query string.
            for encoded in ["%00", "%0D%0ABcc:%20evil@example.net", "%0A", "%0D", "%1B%5B31m", "%C2%85"] {
                let answer = try await client.get("/verification-status?email=ctl@example.com\(encoded)")
                #expect(answer.status == 400, "\(encoded)")
                #expect(answer.json?["error"] as? String == "validation_error", "\(encoded)")
            }
            // Controls in header values are refused by the HTTP parser before any handler sees them.
            let agent = try await HTTPTestClient.request(
                "POST", Self.base + "/login", to: endpoint,
                headers: ["User-Agent": "curl\u{1}\u{7F}evil", "X-Request-Id": "id\u{1}x"],
                json: ["email": "ctl@example.com", "password": "control freak 2026"])
            #expect(agent.status == 400)
            #expect(agent["x-request-id"] != "id\u{1}x")
            // A forgot that does send mail, next to the refused ones.
            #expect(try await client.post("/password/forgot", ["email": "ctl@example.com"]).status == 202)
            _ = try await client.code(for: "ctl@example.com", skipping: 1)
            try await Self.expectServing(endpoint)

            // Every mail header line is printable ASCII; no Bcc was ever injected.
            let directory = daemon.dataDirectory + "/mail/new"
            let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(files.count == 2)
            for file in files {
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
                let head = bytes.firstRange(of: Array("\r\n\r\n".utf8)).map { bytes[..<$0.lowerBound] }
                    ?? bytes.firstRange(of: Array("\n\n".utf8)).map { bytes[..<$0.lowerBound] } ?? bytes[...]
                for line in head.split(separator: UInt8(ascii: "\n")) {
                    let content = line.last == 13 ? line.dropLast() : line
                    #expect(content.allSatisfy { $0 == 9 || (0x20..<0x7F).contains($0) }, "\(file)")
                }
                #expect(!String(decoding: bytes, as: UTF8.self).lowercased().contains("evil@example.net"))
            }
            // Every log line is one JSON object; no secret and no injected text appears.
            for line in daemon.stderrText.split(separator: "\n") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8))
                #expect(object is [String: Any], "not a JSON line: \(line.prefix(200))")
            }
            let log = daemon.stderrText
            #expect(!log.contains("control freak"))
            #expect(!log.contains("evil@example.net"))
            #expect(!log.contains(access))
        }
    }

    @Test("email length limits and Unicode case tricks on every route that takes an email")
    func emailTricks() async throws {
        try await withDaemon(arguments: Self.unlimited) { daemon in
            let endpoint = try daemon.tcp
            let client = AuthFlowTests.Client(endpoint: endpoint, daemon: daemon)
            _ = try await client.verifiedUser("kim@example.com", password: "seoul tower 1969")
            let tooLong = [
                String(repeating: "a", count: 65) + "@example.com",
                "a@" + String(repeating: "b", count: 63) + "." + String(repeating: "c", count: 63) + "."
                    + String(repeating: "d", count: 63) + "." + String(repeating: "e", count: 60) + ".com",
                String(repeating: "x", count: 100_000) + "@example.com",
            ]
            for email in tooLong {
                for (route, extra) in [
                    ("/login", ["password": "seoul tower 1969"]), ("/password/forgot", [:]),
                    ("/resend-verification", [:]), ("/verify-email", ["code": "123456"]),
                    ("/password/reset", ["code": "123456", "new_password": "long enough pass"]),
                ] {
                    var body: [String: Any] = extra
                    body["email"] = email
                    let answer = try await client.post(route, body)
                    #expect(answer.status == 400 || answer.status == 413, "\(route) \(email.count)")
                }
                let status = try await client.get("/verification-status?email=\(email)")
                #expect(status.status == 400 || status.status == 431 || status.status == 414, "\(email.count)")
            }
            // Look-alikes never reach the ASCII account: not by login, not by reset mail.
            let lookalikes = [
                "\u{212A}im@example.com", "k\u{131}m@example.com", "\u{FF4B}im@example.com", "kim@example.com\u{200B}",
                "k\u{130}m@example.com",
            ]
            for email in lookalikes {
                let login = try await client.post("/login", ["email": email, "password": "seoul tower 1969"])
                #expect(login.status == 401 || login.status == 400, "\(email.debugDescription)")
                #expect(try await client.post("/password/forgot", ["email": email]).status != 500)
            }
            #expect(MaildirReader.messages(in: daemon.dataDirectory + "/mail", to: "kim@example.com").count == 1)
            let ascii = try await client.post("/login", ["email": "KIM@example.com", "password": "seoul tower 1969"])
            #expect(ascii.status == 200)
            try await Self.expectServing(endpoint)
        }
    }

    @Test("HTTP framing: lying Content-Length, CL with Transfer-Encoding, bad lengths, a garbage head")
    func framing() async throws {
        try await withDaemon(arguments: Self.unlimited) { daemon in
            let endpoint = try daemon.tcp
            let path = Self.base + "/login"
            func exchange(_ text: String, extra: [UInt8] = []) async throws -> [UInt8] {
                try await HTTPTestClient.raw(Array(text.utf8) + extra, to: endpoint)
            }
            func statuses(_ bytes: [UInt8]) -> [Int] {
                String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
                    .filter { $0.hasPrefix("HTTP/1.1 ") }
                    .compactMap { Int($0.dropFirst(9).prefix(3)) }
            }
            let json = #"{"email":"a@example.com","password":"wrong password"}"#

            // Declared larger than sent and larger than 64 KiB: 413 before reading anything.
            let declared = try await exchange(
                "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n"
                    + "Connection: close\r\n\r\n{")
            #expect(statuses(declared) == [413])
            // Declared smaller than sent: the rest is a second request, which is garbage: 400, never 2xx or 5xx.
            let smaller = try await exchange(
                "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
                    + json + "\r\nConnection: close\r\n\r\n")
            #expect(statuses(smaller).allSatisfy { (400..<500).contains($0) }, "\(statuses(smaller))")
            // Lengths that are not numbers.
            for length in ["-1", "abc", "99999999999999999999999", "5, 6", "0x10"] {
                let answer = try await exchange(
                    "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(length)\r\nConnection: close\r\n\r\n{}")
                let codes = statuses(answer)
                #expect(!codes.isEmpty && codes.allSatisfy { (400..<500).contains($0) }, "\(length)")
            }
            // Both Content-Length and Transfer-Encoding: refused, and no smuggled second request is answered.
            let smuggled = "GET /api/v1/auth/profile HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let both = try await exchange(
                "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled)
            #expect(statuses(both).count == 1, "\(statuses(both))")
            #expect(statuses(both).allSatisfy { (400..<500).contains($0) }, "\(statuses(both))")
            let unknownCoding = try await exchange(
                "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n"
                    + "Connection: close\r\n\r\n{}")
            #expect(statuses(unknownCoding).allSatisfy { (400..<500).contains($0) }, "\(statuses(unknownCoding))")
            try await Self.expectServing(endpoint, "after framing")

            // A head the parser refuses is answered in SPEC §3's shape too, and nothing smuggled behind it.
            let bothAnswer = try HTTPTestClient.parse(both)
            #expect(bothAnswer.json?["error"] as? String == "validation_error")
            #expect(bothAnswer["connection"] == "close")
            let badLine = try await exchange("GARBAGE\r\n\r\n")
            #expect(statuses(badLine) == [400])
            #expect(try HTTPTestClient.parse(badLine).json?["error"] as? String == "validation_error")
            try await Self.expectServing(endpoint, "after headers")
        }
    }

    @Test("oversized heads are 431 in SPEC §3's shape on TCP and on the Unix socket; a head just under passes")
    func oversizedHeads() async throws {
        try await withDaemon(arguments: Self.unlimited) { daemon in
            for endpoint in [try daemon.tcp, try daemon.unix] {
                try await Self.expectHeadLimits(endpoint)
            }
        }
    }

    /// The head limits of every listener (32 KiB of target, names and values; 100 fields): over them 431
    /// `request_header_fields_too_large` with `Connection: close`, pipelined requests before it answered first.
    static func expectHeadLimits(_ endpoint: TestEndpoint) async throws {
        func exchange(_ text: String) async throws -> [UInt8] {
            try await HTTPTestClient.raw(Array(text.utf8), to: endpoint)
        }
        func expect431(_ bytes: [UInt8], _ comment: Comment) throws {
            let answer = try HTTPTestClient.parse(bytes)
            #expect(answer.status == 431, comment)
            #expect(answer.json?["error"] as? String == "request_header_fields_too_large", comment)
            #expect((answer.json?["message"] as? String)?.isEmpty == false, comment)
            #expect(answer["connection"] == "close", comment)
            #expect(answer["content-type"] == "application/json; charset=utf-8", comment)
            #expect(answer["x-request-id"]?.count == 32, comment)
            #expect(String(decoding: bytes, as: UTF8.self).components(separatedBy: "HTTP/1.1 ").count == 2, comment)
        }
        let big = "X-Big: \(String(repeating: "a", count: 33 * 1024))\r\n"
        try expect431(try await exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\(big)\r\n"), "one 33 KiB header")
        // Far over the limit: the client is still sending when the answer comes, and reads it, not a reset.
        let huge = "X-Huge: \(String(repeating: "b", count: 512 * 1024))\r\n"
        try expect431(try await exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\(huge)\r\n"), "a 512 KiB header")
        let spread = (0..<40).map { "X-Part\($0): \(String(repeating: "c", count: 1024))\r\n" }.joined()
        try expect431(try await exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\(spread)\r\n"), "40 headers of 1 KiB")
        let many = (0..<101).map { "X-H\($0): v\r\n" }.joined()
        try expect431(try await exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\(many)\r\n"), "101 headers")
        let longTarget = "/api/v1/auth/verification-status?email=" + String(repeating: "d", count: 40 * 1024)
        try expect431(try await exchange("GET \(longTarget) HTTP/1.1\r\nHost: x\r\n\r\n"), "a 40 KiB target")

        // Under the limits: served as usual.
        let under = "X-Big: \(String(repeating: "a", count: 30 * 1024))\r\n"
        let fine = try HTTPTestClient.parse(
            try await exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\(under)Connection: close\r\n\r\n"))
        #expect(fine.status == 200)
        let enough = (0..<90).map { "X-H\($0): v\r\n" }.joined()
        let fields = try HTTPTestClient.parse(
            try await exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\(enough)Connection: close\r\n\r\n"))
        #expect(fields.status == 200)

        // Pipelined: the good request before the oversized one is answered first, then the 431, then nothing.
        let pipelined = try await exchange(
            "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\(big)\r\n"
                + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = String(decoding: pipelined, as: UTF8.self)
        // A status line follows the previous answer's body directly, not on a line of its own.
        let codes = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(codes == ["200", "431"], "\(codes)")
        #expect(text.contains("request_header_fields_too_large"))
        let health = try await HTTPTestClient.request("GET", "/healthz", to: endpoint)
        #expect(health.status == 200, "\(endpoint) after the head limits")
    }

    @Test("slow clients: stalled heads and bodies hold up no one and are closed after the idle timeout")
    func slowClients() async throws {
        try await withDaemon(arguments: Self.unlimited) { daemon in
            var stalled: [StalledConnection] = []
            defer { stalled.forEach { $0.close() } }
            for endpoint in [try daemon.tcp, try daemon.unix] {
                for _ in 0..<20 {
                    let head = "POST \(Self.base)/login HTTP/1.1\r\nHost: x\r\nContent-Le"
                    stalled.append(try StalledConnection(endpoint, sending: head))
                    stalled.append(
                        try StalledConnection(
                            endpoint,
                            sending: "POST \(Self.base)/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                + "Content-Length: 100\r\n\r\n{\"email\":"))
                }
            }
            for endpoint in [try daemon.tcp, try daemon.unix] {
                for _ in 0..<10 {
                    let started = ContinuousClock.now
                    let answer = try await HTTPTestClient.request("GET", "/healthz", to: endpoint, timeout: 5)
                    #expect(answer.status == 200)
                    #expect(ContinuousClock.now - started < .seconds(2))
                }
                let login = try await HTTPTestClient.request(
                    "POST", Self.base + "/login", to: endpoint, json: ["email": "a@example.com", "password": "x"],
                    timeout: 10)
                #expect(login.status == 401)
            }
            // A head or a body that trickles in a byte at a time is not kept alive by the trickle (slowloris, slow
            // POST): each is cut off 30 s after it began, though every byte would restart the idle timeout.
            let tricklingHead = try StalledConnection(
                try daemon.tcp, sending: "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            defer { tricklingHead.close() }
            let tricklingBody = try StalledConnection(
                try daemon.unix,
                sending: "POST \(Self.base)/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 60000\r\n\r\n{\"email\":\"")
            defer { tricklingBody.close() }
            var headCut = false
            var bodyCut = false
            let cut = await waitUntil(timeout: .seconds(90)) {
                headCut = headCut || tricklingHead.closedByPeer
                bodyCut = bodyCut || tricklingBody.closedByPeer
                if !headCut { tricklingHead.sendMore("a") }
                if !bodyCut { tricklingBody.sendMore("a") }
                return headCut && bodyCut
            }
            #expect(cut, "head cut: \(headCut), body cut: \(bodyCut)")
            // Every stalled connection is closed by the daemon once silent for its idle timeout (30 s).
            #expect(await waitUntil(timeout: .seconds(90)) { stalled.allSatisfy { $0.closedByPeer } })
        }
    }
}

/// A connection that sends part of a request and then says nothing more until closed.
final class StalledConnection {
    private var descriptor: Int32

    init(_ endpoint: TestEndpoint, sending text: String) throws {
        switch endpoint {
        case .tcp(let host, let port):
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                Glibc.close(descriptor)
                throw TestClientError("connect to \(endpoint) failed")
            }
        case .unix(let path):
            descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in path.utf8.enumerated() where index < raw.count - 1 { raw[index] = byte }
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard connected == 0 else { throw TestClientError("connect to \(endpoint) failed") }
        }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count
        else { throw TestClientError("send to \(endpoint) failed") }
    }

    /// Sends more of the request, ignoring errors (the daemon may have closed the connection).
    func sendMore(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// True once the daemon has closed the connection (end of stream or reset); never blocks. Whatever the daemon
    /// sent before closing is read and dropped.
    var closedByPeer: Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            if count > 0 { continue }
            if count == 0 { return true }
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
        }
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}
