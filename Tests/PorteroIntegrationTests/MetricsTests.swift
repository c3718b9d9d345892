import Foundation
import PorteroTestSupport
import Testing

/// `GET /metrics` of the built binary, read over its Unix socket by the example scraper, which parses the exposition
/// with `prometheus_client` (PyPI): traffic moves the counters by exactly what happened, labels stay bounded and
/// hold no address or secret, and TCP answers 404 unless `metrics.tcp` is on.
@Suite("Metrics through the binary", .serialized)
struct MetricsTests {
    /// One sample of the exposition.
    struct Sample: Hashable {
        let name: String
        let labels: [String: String]
    }

    /// Runs the python3 `make test-deps` installed prometheus_client for (the first on PATH).
    static func python(_ arguments: [String]) async throws -> CommandResult {
        let environment = ProcessInfo.processInfo.environment.filter {
            ["PATH", "HOME", "PYENV_ROOT"].contains($0.key)
        }
        return try await PorteroProcess.runProgram("/usr/bin/env", ["python3"] + arguments, environment: environment)
    }

    /// Every sample of `/metrics`, as `prometheus_client` parsed it.
    static func scrape(_ socket: String) async throws -> [Sample: Double] {
        let result = try await python([
            LocalAppTests.root + "/examples/metrics/portero_metrics.py", "--socket", socket,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        var samples: [Sample: Double] = [:]
        for line in result.stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let sample = Sample(
                name: try #require(object["name"] as? String), labels: object["labels"] as? [String: String] ?? [:])
            samples[sample] = try #require(object["value"] as? Double)
        }
        return samples
    }

    static func value(_ samples: [Sample: Double], _ name: String, _ labels: [String: String] = [:]) -> Double {
        samples[Sample(name: name, labels: labels)] ?? 0
    }

    @Test("traffic moves the counters by what happened")
    func trafficMovesTheCounters() async throws {
        try await withDaemon { daemon in
            let socket = try #require(daemon.socketPath)
            let client = AuthFlowTests.Client(endpoint: try daemon.unix, daemon: daemon)
            let password = "difference engine 1822"
            let before = try await Self.scrape(socket)
            #expect(Self.value(before, "portero_users") == 0)

            let verified = try await client.verifiedUser("ada@example.com", password: password)
            #expect(verified.status == 200)
            let wrong = try await client.post("/login", ["email": "ada@example.com", "password": "wrong password 1"])
            #expect(wrong.status == 401)
            let unknown = try await client.post("/login", ["email": "nobody@example.com", "password": password])
            #expect(unknown.status == 401)
            let login = try await client.post("/login", ["email": "ada@example.com", "password": password])
            #expect(login.status == 200)
            let token = try #require(login.json?["access_token"] as? String)
            #expect(try await client.get("/profile", token: token).status == 200)
            #expect(try await client.get("/profile", token: "not.a.token").status == 401)
            #expect(try await client.get("/profile").status == 401)
            let unmatched = try await HTTPTestClient.request("GET", "/no/such/path-\(UUID())", to: try daemon.unix)
            #expect(unmatched.status == 404)
            let snapshot = try await HTTPTestClient.request("POST", "/admin/v1/snapshot", to: try daemon.unix)
            #expect(snapshot.status == 200, "\(snapshot.text)")

            let after = try await Self.scrape(socket)
            func delta(_ name: String, _ labels: [String: String] = [:]) -> Double {
                Self.value(after, name, labels) - Self.value(before, name, labels)
            }
            // Login outcomes: an unknown email and a wrong password are one outcome, as their answers are.
            #expect(delta("portero_logins_total", ["outcome": "invalid_credentials"]) == 2)
            #expect(delta("portero_logins_total", ["outcome": "success"]) == 1)
            // Token checks of /profile.
            #expect(delta("portero_token_checks_total", ["check": "profile", "outcome": "active"]) == 1)
            #expect(delta("portero_token_checks_total", ["check": "profile", "outcome": "invalid_token"]) == 1)
            #expect(delta("portero_token_checks_total", ["check": "profile", "outcome": "missing_token"]) == 1)
            // Requests by route pattern, method and status, with a latency histogram for each.
            let login401 = ["route": "/api/v1/auth/login", "method": "POST", "status": "401"]
            let login200 = ["route": "/api/v1/auth/login", "method": "POST", "status": "200"]
            #expect(delta("portero_http_requests_total", login401) == 2)
            #expect(delta("portero_http_requests_total", login200) == 1)
            #expect(delta("portero_http_request_duration_seconds_count", login401) == 2)
            #expect(delta("portero_http_request_duration_seconds_bucket", login200.merging(["le": "+Inf"]) { $1 }) == 1)
            #expect(
                delta(
                    "portero_http_requests_total", ["route": "/api/v1/auth/profile", "method": "GET", "status": "200"])
                    == 1)
            #expect(
                delta("portero_http_requests_total", ["route": "unmatched", "method": "GET", "status": "404"]) == 1)
            // Gauges read from the state, the store's syncs and snapshot, and the mail that carried the code.
            #expect(Self.value(after, "portero_users") == 1)
            #expect(Self.value(after, "portero_users_verified") == 1)
            #expect(Self.value(after, "portero_sessions") == 2)
            #expect(Self.value(after, "portero_mail_queue_depth") == 0)
            #expect(Self.value(after, "portero_hash_pool_queue_depth") == 0)
            #expect(delta("portero_store_snapshot_seconds_count") == 1)
            #expect(delta("portero_store_fsync_seconds_count") >= 4)
            #expect(delta("portero_store_commit_batch_size_count") >= 4)
            #expect(delta("portero_mail_attempts_total") == 1)
            #expect(delta("portero_mail_deliveries_total") == 1)

            // Bounded labels with nothing of the traffic in them: no path, email, password or token.
            for sample in after.keys {
                for value in sample.labels.values {
                    for secret in ["@", "no/such", password, token, "not.a.token"] {
                        #expect(!value.contains(secret), "\(sample.name) has a label \(value)")
                    }
                }
            }

            let overTCP = try await HTTPTestClient.request("GET", "/metrics", to: try daemon.tcp)
            #expect(overTCP.status == 404)

            // The README's textfile-collector setup: the same scraper writes the exposition for node_exporter.
            let textfile = daemon.directory.file("portero.prom")
            let written = try await Self.python([
                LocalAppTests.root + "/examples/metrics/portero_metrics.py", "--socket", socket, "--textfile", textfile,
            ])
            #expect(written.status == 0, "\(written.stderr)")
            let exposition = try String(contentsOfFile: textfile, encoding: .utf8)
            #expect(exposition.contains("portero_logins_total{outcome=\"success\"} 1"), "\(exposition)")
        }
    }

    @Test("metrics.tcp: true serves /metrics over TCP")
    func tcpWhenConfigured() async throws {
        try await withDaemon(arguments: ["--metrics-tcp", "true"]) { daemon in
            let answer = try await HTTPTestClient.request("GET", "/metrics", to: try daemon.tcp)
            #expect(answer.status == 200)
            #expect(answer["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(answer.text.contains("# TYPE portero_users gauge"), "\(answer.text)")
        }
    }
}
