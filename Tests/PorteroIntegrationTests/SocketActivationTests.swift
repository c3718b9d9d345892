import Foundation
import PorteroTestSupport
import Testing

/// Socket activation with the real `systemd-socket-activate` (Debian package `systemd`): it binds a Unix and a TCP
/// socket, execs the daemon in place on the first connection and passes both (`LISTEN_FDS=2`, `LISTEN_FDNAMES`).
@Suite("Socket activation", .serialized)
struct SocketActivationTests {
    static let activator = "/usr/bin/systemd-socket-activate"

    @Test(
        "passed sockets are served instead of binding with the same head limits, READY=1 waits for them, SIGTERM exits 0 (plain and TLS)",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: activator),
            "systemd-socket-activate is not installed (Debian package systemd)"
        ),
        arguments: [false, true]
    )
    func servesPassedSockets(tls: Bool) async throws {
        let directory = try TestDirectory("activation")
        defer { directory.remove() }
        // With tls.* set, the passed TCP socket speaks TLS and the passed Unix socket stays plain HTTP.
        var tlsArguments: [String] = []
        var clientScript = ""
        if tls {
            _ = try await TLSTests.makeCertificate("server", in: directory)
            tlsArguments = [
                "--tls-certificate", directory.file("server.pem"), "--tls-key", directory.file("server.key"),
            ]
            clientScript = try directory.write("client.py", TLSTests.client)
        }
        let notify = try DatagramListener()
        let activatedSocket = directory.file("activated.sock")
        let activatedPort = try PorteroProcess.freePort()
        // Configured listeners that must stay unbound: the passed sockets replace them.
        let configuredSocket = directory.file("configured.sock")
        let configuredPort = try PorteroProcess.freePort()

        // Foundation's `Process` takes the closing of an fd it leaves in the child for the child's exit, and then
        // blocks its one monitoring thread in `waitpid` (stalling every other `Process` of the test run). The
        // activator closes that fd when it execs the daemon, so a shell sits in between and keeps it open.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments =
            [
                "-c", "\"$@\"; exit $?", "sh", Self.activator,
                "-l", activatedSocket, "-l", "127.0.0.1:\(activatedPort)", "--fdname=unix:http",
                "-E", "NOTIFY_SOCKET=\(notify.path)",
                "--", PorteroProcess.binaryPath, "serve", "--data-dir", directory.file("data"),
                "--listen", "127.0.0.1:\(configuredPort)", "--socket", configuredSocket,
                "--log-format", "json", "--mail-transport", "maildir",
            ] + tlsArguments
        process.environment = PorteroProcess.cleanEnvironment()
        let log = directory.file("stderr.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = process.standardError
        process.standardInput = FileHandle.nullDevice
        try process.run()
        func stderrText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        /// The activator's pid, which becomes the daemon's when it execs it in place.
        func daemonPID() -> pid_t? {
            let shell = process.processIdentifier
            let children = try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)
            return children?.split(separator: " ").first.flatMap { pid_t($0) }
        }
        var daemon: pid_t?
        defer {
            if let daemon, process.isRunning { kill(daemon, SIGKILL) }
        }
        daemon = await waitUntil { daemonPID() != nil } ? daemonPID() : nil
        let pid = try #require(daemon, "systemd-socket-activate did not start: \(stderrText())")

        // The activator binds first; the daemon is exec'd when this first request connects. The file exists from
        // bind(2) on, but connections are refused until the activator's listen(2): retry those alone, briefly.
        #expect(await waitUntil { FileManager.default.fileExists(atPath: activatedSocket) })
        var refusals = 0
        var firstAnswer: TestResponse?
        while firstAnswer == nil {
            do {
                firstAnswer = try await HTTPTestClient.request(
                    "GET", "/healthz", to: .unix(path: activatedSocket), timeout: 30)
            } catch  where "\(error)".contains("Connection refused") && refusals < 50 {
                refusals += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let first = try #require(firstAnswer)
        #expect(first.status == 200, "\(stderrText())")
        #expect(first.headers["date"]?.hasSuffix(" GMT") == true, "no Date header: \(first.headers)")

        var ready: [String: String]?
        let deadline = ContinuousClock.now + .seconds(30)
        while ready == nil && ContinuousClock.now < deadline {
            if let message = await notify.receive(timeout: .seconds(1)) {
                let fields = notifyAssignments(message)
                if fields["READY"] == "1" { ready = fields }
            }
        }
        let fields = try #require(ready, "no READY=1: \(stderrText())")
        #expect(fields["STATUS"] == "serving 0 users on 127.0.0.1:\(activatedPort) and \(activatedSocket)")

        let tcp = TestEndpoint.tcp(host: "127.0.0.1", port: activatedPort)
        let unix = TestEndpoint.unix(path: activatedSocket)
        if tls {
            let answer = try await TLSTests.tlsGet(
                ca: directory.file("server.pem"), port: activatedPort, script: clientScript)
            #expect(answer?.status == 200, "\(stderrText())")
            let plain = try? await HTTPTestClient.request("GET", "/healthz", to: tcp, timeout: 3)
            #expect(plain?.status != 200)
        } else {
            #expect(try await HTTPTestClient.request("GET", "/healthz", to: tcp, timeout: 5).status == 200)
        }
        for (endpoint, email) in tls
            ? [(unix, "unix@example.com")] : [(tcp, "tcp@example.com"), (unix, "unix@example.com")]
        {
            let registered = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/register", to: endpoint,
                json: ["email": email, "password": "socket activation 2026", "name": "Activated"],
                timeout: 10
            )
            #expect(registered.status == 201, "\(endpoint): \(registered.text)")
        }
        // The passed sockets run their own pipeline (ActivatedSocketServer): the same head limits and 431 apply.
        for endpoint in tls ? [unix] : [tcp, unix] {
            try await HostileInputTests.expectHeadLimits(endpoint)
        }
        // Nothing was bound at the configured addresses.
        #expect(!FileManager.default.fileExists(atPath: configuredSocket))
        await #expect(throws: (any Error).self) {
            let configured = TestEndpoint.tcp(host: "127.0.0.1", port: configuredPort)
            return try await HTTPTestClient.request("GET", "/healthz", to: configured, timeout: 2)
        }

        kill(pid, SIGTERM)
        #expect(await waitUntil(timeout: .seconds(20)) { !process.isRunning })
        #expect(process.terminationStatus == 0, "\(stderrText())")
        // The socket belongs to the activator (systemd): the daemon leaves its file alone.
        #expect(FileManager.default.fileExists(atPath: activatedSocket))
    }
}
