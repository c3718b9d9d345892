import Foundation
import PorteroTestSupport
import Testing

/// SIGHUP reloads (RELOADING=1 … READY=1) and the watchdog (WATCHDOG=1), against the real binary.
@Suite("Reload and watchdog", .serialized)
struct ReloadAndWatchdogTests {
    static let base = "/api/v1/auth"

    /// Waits for a notification with `key=value`; returns every message seen up to and including it.
    static func waitFor(_ key: String, _ value: String, on listener: DatagramListener, timeout: Duration = .seconds(20))
        async -> [[String: String]]
    {
        var seen: [[String: String]] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let message = await listener.receive(timeout: .seconds(1)) else { continue }
            let fields = notifyAssignments(message)
            seen.append(fields)
            if fields[key] == value { return seen }
        }
        return seen
    }

    /// Sends SIGHUP and waits for RELOADING=1 then READY=1.
    static func reload(_ daemon: PorteroProcess, listener: DatagramListener) async throws {
        daemon.signal(SIGHUP)
        let reloading = await waitFor("RELOADING", "1", on: listener)
        let fields = try #require(reloading.last, "no notification after SIGHUP: \(daemon.stderrText)")
        #expect(fields["RELOADING"] == "1")
        #expect(fields["MONOTONIC_USEC"].flatMap { UInt64($0) } != nil)
        let ready = await waitFor("READY", "1", on: listener)
        #expect(ready.last?["READY"] == "1", "no READY=1 after RELOADING=1: \(daemon.stderrText)")
    }

    static func login(_ daemon: PorteroProcess, _ email: String, _ password: String) async throws -> Int? {
        let answer = try await HTTPTestClient.request(
            "POST", base + "/login", to: try daemon.tcp, json: ["email": email, "password": password])
        #expect(answer.status == 200, "\(answer.text)")
        return answer.json?["expires_in"] as? Int
    }

    @Test("SIGHUP applies a new access_ttl; a broken file is refused with one line and the old value kept")
    func sighupReloads() async throws {
        let listener = try DatagramListener()
        let directory = try TestDirectory("reload")
        let config = try directory.write("portero.yaml", "access_ttl: 1h\n")
        let daemon = try PorteroProcess(
            directory: directory,
            arguments: ["--config", config],
            environment: ["NOTIFY_SOCKET": listener.path]
        )
        do {
            try await exerciseReload(daemon, config: config, listener: listener)
        } catch {
            await daemon.cleanUp()
            throw error
        }
        await daemon.stop()
        #expect(try await daemon.waitForExit() == 0)
        directory.remove()
    }

    private func exerciseReload(_ daemon: PorteroProcess, config: String, listener: DatagramListener) async throws {
        try await daemon.startAndWait()
        let started = await Self.waitFor("READY", "1", on: listener)
        #expect(started.last?["READY"] == "1")

        let email = "reload@example.com"
        let password = "reloaded configuration 7"
        let registered = try await HTTPTestClient.request(
            "POST", Self.base + "/register", to: try daemon.tcp, json: ["email": email, "password": password])
        #expect(registered.status == 201, "\(registered.text)")
        let code = try await MaildirReader.waitForCode(in: daemon.dataDirectory + "/mail", to: email)
        let verified = try await HTTPTestClient.request(
            "POST", Self.base + "/verify-email", to: try daemon.tcp, json: ["email": email, "code": code])
        #expect(verified.json?["expires_in"] as? Int == 3600, "\(verified.text)")

        try Data("access_ttl: 2m\n".utf8).write(to: URL(fileURLWithPath: config))
        try await Self.reload(daemon, listener: listener)
        #expect(try await Self.login(daemon, email, password) == 120)

        try Data("access_ttl: forever\n".utf8).write(to: URL(fileURLWithPath: config))
        try await Self.reload(daemon, listener: listener)
        #expect(try await Self.login(daemon, email, password) == 120)
        let refusals = daemon.stderrText.split(separator: "\n").filter { $0.contains("config.reload_failed") }
        #expect(refusals.count == 1, "\(daemon.stderrText)")
        #expect(refusals.first?.contains("access_ttl") == true)
        #expect(daemon.isRunning)
    }

    @Test("with WATCHDOG_USEC set, WATCHDOG=1 keeps arriving while the store and event loops answer")
    func watchdogPings() async throws {
        let listener = try DatagramListener()
        try await withDaemon(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"]) { daemon in
            var pings = 0
            let deadline = ContinuousClock.now + .seconds(20)
            while pings < 3 && ContinuousClock.now < deadline {
                if let message = await listener.receive(timeout: .seconds(1)),
                    notifyAssignments(message)["WATCHDOG"] == "1"
                {
                    pings += 1
                }
            }
            #expect(pings >= 3, "\(daemon.stderrText)")
        }
    }

    @Test("with WATCHDOG_PID naming another process, the watchdog is not the daemon's: no WATCHDOG=1 until STOPPING=1")
    func watchdogOfAnotherProcess() async throws {
        let listener = try DatagramListener()
        let daemon = try PorteroProcess(
            arguments: ["--log-level", "debug"],
            environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"]
        )
        do {
            try await daemon.startAndWait()
            let decided = await waitUntil(timeout: .seconds(20)) {
                daemon.stderrText.contains("systemd watchdog not enabled")
            }
            #expect(decided, "\(daemon.stderrText)")
            daemon.signal(SIGTERM)
            let seen = await Self.waitFor("STOPPING", "1", on: listener)
            #expect(seen.last?["STOPPING"] == "1", "\(daemon.stderrText)")
            #expect(!seen.contains { $0["WATCHDOG"] == "1" })
        } catch {
            await daemon.cleanUp()
            throw error
        }
        #expect(try await daemon.waitForExit() == 0)
        daemon.directory.remove()
    }
}
