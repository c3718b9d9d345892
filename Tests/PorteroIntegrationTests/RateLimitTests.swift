import Foundation
import PorteroHTTP
import PorteroTestSupport
import Testing

/// SPEC §2 `rate.*`, `trusted_proxies` and `lockout.*` under attack, against the real binary.
@Suite("Rate limits and lockout", .serialized)
struct RateLimitTests {
    typealias Client = AuthFlowTests.Client
    static let base = AuthFlowTests.base

    static func post(
        _ path: String,
        _ json: [String: Any],
        to endpoint: TestEndpoint,
        forwardedFor: String? = nil
    ) async throws -> TestResponse {
        var headers: [String: String] = [:]
        if let forwardedFor { headers["X-Forwarded-For"] = forwardedFor }
        return try await HTTPTestClient.request("POST", base + path, to: endpoint, headers: headers, json: json)
    }

    /// The three rate-limit headers as integers.
    static func rateHeaders(_ answer: TestResponse) -> [Int?] {
        ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"].map { answer[$0].flatMap { Int($0) } }
    }

    @Test("per address: every answer carries the headers, valid requests count, then 429 with Retry-After")
    func loginLimit() async throws {
        try await withDaemon(arguments: ["--rate-login", "3/15m"]) { daemon in
            let endpoint = try daemon.tcp
            // Refused by validation: shown the budget, not counted.
            for _ in 0..<5 {
                let invalid = try await Self.post("/login", ["email": "not an email"], to: endpoint)
                #expect(invalid.status == 400)
                #expect(Self.rateHeaders(invalid) == [3, 3, 0])
            }
            let first = try await Self.post("/login", ["email": "a@example.com", "password": "wrong one"], to: endpoint)
            #expect(first.status == 401)
            #expect(Self.rateHeaders(first) == [3, 2, 900])
            let wrong = try await Self.post("/login", ["email": "a@example.com", "password": "wrong one"], to: endpoint)
            #expect(wrong.status == 401)
            #expect(Self.rateHeaders(wrong)[0...1] == [3, 1])
            let third = try await Self.post("/login", ["email": "b@example.com", "password": "wrong one"], to: endpoint)
            #expect(Self.rateHeaders(third)[1] == 0)

            let limited = try await Self.post("/login", ["email": "c@example.com", "password": "x"], to: endpoint)
            #expect(limited.status == 429)
            #expect(limited.json?["error"] as? String == "rate_limited")
            #expect(limited.json?["message"] is String)
            let retryAfter = try #require(limited.json?["retry_after"] as? Int)
            #expect((1...900).contains(retryAfter))
            #expect(limited["retry-after"] == String(retryAfter))
            #expect(Self.rateHeaders(limited) == [3, 0, retryAfter])
            #expect(limited["x-request-id"] != nil)

            // The Unix socket is another client address; unlimited routes carry no headers.
            let unix = try await Self.post("/login", ["email": "c@example.com", "password": "x"], to: try daemon.unix)
            #expect(unix.status == 401)
            let refresh = try await Self.post("/refresh", ["refresh_token": "nope"], to: endpoint)
            #expect(refresh["x-ratelimit-limit"] == nil)
            #expect(try await HTTPTestClient.request("GET", "/healthz", to: endpoint)["x-ratelimit-limit"] == nil)
            // `0` turns a limit off: no headers at all.
            let register = try await Self.post("/register", [:], to: endpoint)
            #expect(register["x-ratelimit-limit"] == "10")
        }
        try await withDaemon(arguments: ["--rate-login", "0"]) { daemon in
            let answer = try await Self.post("/login", ["email": "a@example.com", "password": "x"], to: try daemon.tcp)
            #expect(answer.status == 401)
            #expect(answer["x-ratelimit-limit"] == nil)
        }
    }

    @Test("per email: resend and forgot count per address typed (unknown ones too), not per client")
    func perEmailLimits() async throws {
        try await withDaemon(arguments: ["--rate-forgot", "2/1h", "--rate-resend", "2/1h"]) { daemon in
            let endpoint = try daemon.tcp
            for _ in 0..<2 {
                let forgot = try await Self.post("/password/forgot", ["email": "Ghost@Example.com"], to: endpoint)
                #expect(forgot.status == 202)
            }
            let third = try await Self.post("/password/forgot", ["email": "ghost@example.COM"], to: endpoint)
            #expect(third.status == 429)
            #expect(third.json?["retry_after"] as? Int == 3600)
            let other = try await Self.post("/password/forgot", ["email": "other@example.com"], to: endpoint)
            #expect(other.status == 202)
            #expect(Self.rateHeaders(other) == [2, 1, 3600])
            // Refused by validation: nothing spent, the whole budget shown.
            let invalid = try await Self.post("/password/forgot", ["email": 7], to: endpoint)
            #expect(invalid.status == 400)
            #expect(Self.rateHeaders(invalid) == [2, 2, 0])

            for _ in 0..<2 {
                let resend = try await Self.post("/resend-verification", ["email": "nobody@example.com"], to: endpoint)
                #expect(resend.status == 404)
            }
            let resend = try await Self.post("/resend-verification", ["email": "nobody@example.com"], to: endpoint)
            #expect(resend.status == 429)
            #expect(resend["retry-after"] != nil)
        }
    }

    @Test("X-Forwarded-For is believed only from trusted proxies; the first untrusted hop from the right is the client")
    func trustedProxies() async throws {
        try await withDaemon(arguments: [
            "--rate-login", "2/1h", "--trusted-proxies", "127.0.0.0/8,::1/128", "--lockout-max-failures", "0",
        ]) { daemon in
            let endpoint = try daemon.tcp
            let body: [String: Any] = ["email": "nobody@example.com", "password": "wrong password"]
            for _ in 0..<2 {
                #expect(try await Self.post("/login", body, to: endpoint, forwardedFor: "203.0.113.5").status == 401)
            }
            #expect(try await Self.post("/login", body, to: endpoint, forwardedFor: "203.0.113.5").status == 429)
            // A client prepending hops does not escape: the proxy's hop (right-most untrusted) counts.
            let prepended = try await Self.post("/login", body, to: endpoint, forwardedFor: "1.1.1.1, 203.0.113.5")
            #expect(prepended.status == 429)
            // Further trusted proxies on the way are skipped.
            let chained = try await Self.post("/login", body, to: endpoint, forwardedFor: "203.0.113.5, 127.0.0.9")
            #expect(chained.status == 429)
            // Another client behind the same proxy has its own budget.
            #expect(try await Self.post("/login", body, to: endpoint, forwardedFor: "203.0.113.6").status == 401)
            // IPv6 clients count per /64.
            #expect(try await Self.post("/login", body, to: endpoint, forwardedFor: "2001:db8::1").status == 401)
            #expect(try await Self.post("/login", body, to: endpoint, forwardedFor: "[2001:db8::2]:443").status == 401)
            #expect(try await Self.post("/login", body, to: endpoint, forwardedFor: "2001:db8::3").status == 429)
            #expect(try await Self.post("/login", body, to: endpoint, forwardedFor: "2001:db8:0:1::1").status == 401)
            // A malformed hop is not an address: the walk stops at the proxy itself.
            #expect(try await Self.post("/login", body, to: endpoint, forwardedFor: "<script>").status == 401)

            // Not on the Unix socket without `unix`: every socket client is one address whatever it claims.
            let unix = try daemon.unix
            #expect(try await Self.post("/login", body, to: unix, forwardedFor: "198.51.100.1").status == 401)
            #expect(try await Self.post("/login", body, to: unix, forwardedFor: "198.51.100.2").status == 401)
            #expect(try await Self.post("/login", body, to: unix, forwardedFor: "198.51.100.3").status == 429)

            // The log names the believed client, canonical, and nothing the client made up.
            let log = daemon.stderrText
            #expect(log.contains(#""remote_addr":"203.0.113.5""#))
            #expect(log.contains(#""remote_addr":"2001:db8::2""#))
            #expect(!log.contains("<script>"))
            #expect(!log.contains("1.1.1.1"))
        }
    }

    @Test("sessions record the forwarded client; an untrusted peer's X-Forwarded-For is ignored")
    func sessionAddress() async throws {
        try await withDaemon(arguments: ["--trusted-proxies", "unix"]) { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            _ = try await client.verifiedUser("ip@example.com", password: "where from 2026")
            let credentials: [String: Any] = ["email": "ip@example.com", "password": "where from 2026"]
            let viaSocket = try await Self.post(
                "/login", credentials, to: try daemon.unix, forwardedFor: "198.51.100.7")
            let viaTCP = try await Self.post("/login", credentials, to: try daemon.tcp, forwardedFor: "198.51.100.8")
            let access = try #require(viaTCP.json?["access_token"] as? String)
            #expect(viaSocket.status == 200)
            let list = try await client.get("/sessions", token: access)
            let sessions = try #require(list.json?["sessions"] as? [[String: Any]])
            let addresses = Set(sessions.compactMap { $0["ip"] as? String })
            #expect(addresses == ["127.0.0.1", "198.51.100.7"], "\(sessions)")
        }
    }

    @Test("20 parallel wrong logins never yield more than max_failures 401s; the lock is durable and says nothing")
    func parallelLockout() async throws {
        let daemon = try PorteroProcess(arguments: ["--lockout-max-failures", "5", "--rate-login", "0"])
        try await daemon.startAndWait()
        let client = Client(endpoint: try daemon.tcp, daemon: daemon)
        let known = "target@example.com"
        _ = try await client.verifiedUser(known, password: "correct horse 1234")
        var lockedBodies: [String: Set<String>] = [:]
        for email in [known, "ghost@example.com"] {
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let answer = try await client.post("/login", ["email": email, "password": "wrong password"])
                        var shape = answer.json ?? [:]
                        shape["locked_until"] = shape["locked_until"].map { _ in "…" }
                        return (answer.status, "\(shape.keys.sorted()) \(shape["error"] ?? "")")
                    }
                }
                return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            let unauthorized = statuses.filter { $0.0 == 401 }.count
            #expect(unauthorized <= 5, "\(email): \(statuses.map(\.0))")
            #expect(unauthorized + statuses.filter { $0.0 == 423 }.count == 20, "\(email): \(statuses.map(\.0))")
            lockedBodies[email] = Set(statuses.filter { $0.0 == 423 }.map(\.1))
            let right = try await client.post("/login", ["email": email, "password": "correct horse 1234"])
            #expect(right.status == 423)
            #expect(right.json?["locked_until"] is String)
        }
        #expect(lockedBodies[known] == lockedBodies["ghost@example.com"])

        // The lock survives a restart.
        await daemon.stop()
        try await daemon.startAndWait()
        for email in [known, "ghost@example.com"] {
            #expect(try await client.post("/login", ["email": email, "password": "correct horse 1234"]).status == 423)
        }
        await daemon.cleanUp()
    }

    @Test("trusted_proxies matching: CIDRs over IPv4 and IPv6, mapped addresses, canonical text")
    func addressParsing() {
        let proxies = TrustedProxies(["10.0.0.0/8", "fd00::/8", "192.0.2.1", "unix"])
        func client(_ peer: String?, _ header: [String]) -> String {
            proxies.clientAddress(peer: peer.flatMap { IPAddress($0) }, forwardedFor: header).description
        }
        #expect(client("10.1.2.3", ["198.51.100.1"]) == "198.51.100.1")
        #expect(client("::ffff:10.1.2.3", ["198.51.100.1"]) == "198.51.100.1")
        #expect(client("fd12::1", ["2001:DB8:0:0::1"]) == "2001:db8::1")
        #expect(client("192.0.2.1", ["198.51.100.1"]) == "198.51.100.1")
        #expect(client("192.0.2.2", ["198.51.100.1"]) == "192.0.2.2")
        #expect(client("11.0.0.1", ["198.51.100.1"]) == "11.0.0.1")
        #expect(client(nil, ["198.51.100.1, 10.0.0.1", "10.0.0.2"]) == "198.51.100.1")
        #expect(client(nil, []) == "unix")
        #expect(client("10.0.0.1", ["10.0.0.2"]) == "10.0.0.2")
        #expect(client("10.0.0.1", ["1.2.3.4, bogus"]) == "10.0.0.1")
        #expect(TrustedProxies([]).clientAddress(peer: nil, forwardedFor: ["1.2.3.4"]).description == "unix")
        #expect(IPAddress("2001:db8::1%eth0") == nil)
        #expect(IPAddress("1.2.3") == nil)
        #expect(IPAddress("2001:db8:1:2:3::4")?.rateLimitKey == "2001:db8:1:2::/64")
        #expect(IPNetwork("10.0.0.0/33") == nil)
        #expect(IPNetwork("::/0")?.contains(IPAddress("1.2.3.4")!) == true)
    }
}
