import Foundation
import PorteroTestSupport
import Testing

/// Start-up, the data-directory lock, graceful shutdown and configuration errors of the real binary.
@Suite("Lifecycle", .serialized)
struct LifecycleTests {
    @Test("a second serve on the same data directory fails at once, naming the lock")
    func secondServeFails() async throws {
        let first = try PorteroProcess()
        try await first.startAndWait()
        let started = ContinuousClock.now
        let result = try await PorteroProcess.run(
            ["serve", "--data-dir", first.dataDirectory, "--listen", "127.0.0.1:\(try PorteroProcess.freePort())",
             "--socket", first.directory.file("second.sock")]
        )
        #expect(result.status != 0)
        #expect(result.stderr.contains("LOCK"))
        #expect(ContinuousClock.now - started < .seconds(10))
        // The first daemon's socket was not touched and it still answers.
        #expect(try await HTTPTestClient.request("GET", "/healthz", to: try first.unix).status == 200)
        await first.cleanUp()
    }

    @Test("SIGTERM drains, snapshots and exits 0; the socket file is removed")
    func gracefulShutdown() async throws {
        let daemon = try PorteroProcess()
        try await daemon.startAndWait()
        let registered = try await HTTPTestClient.request(
            "POST", "/api/v1/auth/register", to: try daemon.tcp,
            json: ["email": "term@example.com", "password": "orderly shutdown 15"])
        #expect(registered.status == 201)
        daemon.signal(SIGTERM)
        let status = try await daemon.waitForExit()
        #expect(status == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory)
        #expect(names.contains { $0.hasPrefix("snapshot-") && $0.hasSuffix(".json") })
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath ?? ""))
        let modes = try names.filter { !$0.hasSuffix("keys") && $0 != "mail" }.map { name in
            try FileManager.default.attributesOfItem(atPath: daemon.dataDirectory + "/" + name)[.posixPermissions]
                as? NSNumber
        }
        #expect(modes.allSatisfy { $0?.intValue == 0o600 })
        daemon.directory.remove()
    }

    @Test("a stale socket file left by a killed daemon is replaced")
    func staleSocketReplaced() async throws {
        let daemon = try PorteroProcess()
        try await daemon.startAndWait()
        daemon.signal(SIGKILL)
        try await daemon.waitForExit()
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath ?? ""))
        try await daemon.startAndWait()
        #expect(try await HTTPTestClient.request("GET", "/healthz", to: try daemon.unix).status == 200)
        await daemon.cleanUp()
    }

    @Test(
        "a bad value or an unknown key stops start-up with one line naming it",
        arguments: [
            (["--access-ttl", "5x"], "access_ttl"),
            (["--rate-login", "five"], "rate.login"),
            (["--listen", "localhost"], "listen"),
            (["--socket-mode", "999"], "socket_mode"),
            (["--log-level", "loud"], "log.level"),
        ]
    )
    func badFlags(arguments: [String], key: String) async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let result = try await PorteroProcess.run(["serve", "--data-dir", directory.file("d")] + arguments)
        #expect(result.status == 78)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(key))
    }

    @Test("unknown keys in the YAML file and unknown PORTERO_ variables are refused")
    func unknownKeys() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let config = directory.file("portero.yaml")
        try "listen: \"127.0.0.1:0\"\nrate:\n  logins: 5/1m\n".write(toFile: config, atomically: true, encoding: .utf8)
        let file = try await PorteroProcess.run(["serve", "--config", config, "--data-dir", directory.file("d")])
        #expect(file.status == 78)
        #expect(file.stderr.contains("rate.logins"))

        let environment = try await PorteroProcess.run(
            ["serve", "--data-dir", directory.file("d")], environment: ["PORTERO_LISTEN_PORT": "1"])
        #expect(environment.status == 78)
        #expect(environment.stderr.contains("PORTERO_LISTEN_PORT"))
    }

    @Test("version prints and exits 0")
    func version() async throws {
        let result = try await PorteroProcess.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("portero "))
    }
}
