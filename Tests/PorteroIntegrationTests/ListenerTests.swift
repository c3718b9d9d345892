import Foundation
import PorteroTestSupport
import Testing

/// Both listeners of a real `portero serve`, over real sockets: health, the error shape, limits, request ids.
@Suite("Listeners", .serialized)
struct ListenerTests {
    @Test("healthz and readyz answer on TCP and on the Unix socket")
    func healthOnBothListeners() async throws {
        try await withDaemon { daemon in
        for endpoint in [try daemon.tcp, try daemon.unix] {
            let health = try await HTTPTestClient.request("GET", "/healthz", to: endpoint)
            #expect(health.status == 200)
            #expect(health.json?["status"] as? String == "ok")
            #expect(health["content-type"] == "application/json; charset=utf-8")
            let ready = try await HTTPTestClient.request("GET", "/readyz", to: endpoint)
            #expect(ready.status == 200)
            #expect(ready["x-request-id"]?.count == 32)
        }
        }
    }

    @Test("the Unix socket gets socket_mode, the data directory 0700")
    func socketAndDirectoryModes() async throws {
        try await withDaemon(arguments: ["--socket-mode", "0640"]) { daemon in
        let socketMode = try FileManager.default.attributesOfItem(atPath: daemon.socketPath ?? "")[.posixPermissions]
        #expect((socketMode as? NSNumber)?.intValue == 0o640)
        let dataMode = try FileManager.default.attributesOfItem(atPath: daemon.dataDirectory)[.posixPermissions]
        #expect((dataMode as? NSNumber)?.intValue == 0o700)
        }
    }

    @Test("errors have SPEC §3's JSON shape and a request id; a wrong method is 405 with Allow")
    func errorShape() async throws {
        try await withDaemon { daemon in
        let endpoint = try daemon.tcp

        let missing = try await HTTPTestClient.request("GET", "/no/such/route", to: endpoint)
        #expect(missing.status == 404)
        #expect(missing.json?["error"] as? String == "not_found")
        #expect(missing.json?["message"] is String)
        #expect(missing["x-request-id"] != nil)

        // A known path with a method it does not have: 405 naming the ones it has (a captured segment too).
        for (method, path, allow) in [
            ("GET", "/api/v1/auth/login", "POST"), ("TRACE", "/api/v1/auth/login", "POST"),
            ("PUT", "/api/v1/auth/profile", "GET, PATCH"), ("POST", "/api/v1/auth/sessions/123", "DELETE"),
            ("DELETE", "/healthz", "GET"),
        ] {
            let wrong = try await HTTPTestClient.request(method, path, to: endpoint)
            #expect(wrong.status == 405, "\(method) \(path)")
            #expect(wrong.json?["error"] as? String == "method_not_allowed", "\(method) \(path)")
            #expect(wrong["allow"] == allow, "\(method) \(path)")
        }
        #expect(try await HTTPTestClient.request("GET", "/api/v1/auth/sessions/1/2", to: endpoint).status == 404)

        let echoed = try await HTTPTestClient.request("GET", "/healthz", to: endpoint, headers: ["X-Request-Id": "abc-123"])
        #expect(echoed["x-request-id"] == "abc-123")
        let refused = try await HTTPTestClient.request(
            "GET", "/healthz", to: endpoint, headers: ["X-Request-Id": "bad id with spaces"])
        #expect(refused["x-request-id"] != "bad id with spaces")
        }
    }

    @Test("bodies: 413 over 64 KiB whatever Content-Length says, 415 for non-JSON, 400 for bad JSON")
    func bodyRules() async throws {
        try await withDaemon { daemon in
        let endpoint = try daemon.unix
        let path = "/api/v1/auth/login"

        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 70 * 1024)
        let declared = try await HTTPTestClient.request(
            "POST", path, to: endpoint, headers: ["Content-Type": "application/json"], body: big)
        #expect(declared.status == 413)
        #expect(declared.json?["error"] as? String == "payload_too_large")

        // Chunked: no Content-Length at all, the body is still cut at 64 KiB.
        var chunked = Array("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8)
        for _ in 0..<70 {
            chunked += Array("400\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "b"), count: 1024) + Array("\r\n".utf8)
        }
        chunked += Array("0\r\n\r\n".utf8)
        let chunkedAnswer = try HTTPTestClient.parse(try await HTTPTestClient.raw(chunked, to: endpoint))
        #expect(chunkedAnswer.status == 413)

        let text = try await HTTPTestClient.request(
            "POST", path, to: endpoint, headers: ["Content-Type": "text/plain"], body: Array("hello".utf8))
        #expect(text.status == 415)
        #expect(text.json?["error"] as? String == "unsupported_media_type")

        for bad in ["{", "[1,2]", "\"x\"", "42", "{\"email\": 1, \"email\": 2}", "{\"a\":\"\\ud800\"}"] {
            let answer = try await HTTPTestClient.request(
                "POST", path, to: endpoint, headers: ["Content-Type": "application/json"], body: Array(bad.utf8))
            #expect(answer.status == 400, "body \(bad)")
            #expect(answer.json?["error"] as? String == "validation_error", "body \(bad)")
        }
        let nested = String(repeating: "[", count: 10_000)
        let deep = try await HTTPTestClient.request(
            "POST", path, to: endpoint, headers: ["Content-Type": "application/json"], body: Array(nested.utf8))
        #expect(deep.status == 400)
        // Still serving after all that.
        #expect(try await HTTPTestClient.request("GET", "/healthz", to: endpoint).status == 200)
        }
    }
}
