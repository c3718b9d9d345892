import Crypto
import Foundation
import PorteroTestSupport
import Testing

/// TLS on the TCP listener (`tls.certificate`, `tls.key`), against the real binary, with certificates made by the
/// `openssl` command and a Python `ssl` client: TLS 1.2+ only, plain HTTP still on the Unix socket, the files
/// re-read on SIGHUP, and files that do not load refused at start (exit 78) and at reload (old certificate kept).
@Suite("TLS", .serialized)
struct TLSTests {
    /// `python3 client.py CA PORT` → one JSON line {status, body, version, leaf_sha256} for GET /healthz over TLS,
    /// trusting only CA; `python3 client.py --old PORT` → the error of a handshake offering at most TLS 1.1.
    static let client = #"""
        import hashlib, json, socket, ssl, sys

        def get(ca, port):
            context = ssl.create_default_context(cafile=ca)
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    data = b""
                    while chunk := tls.recv(65536):
                        data += chunk
                    head, _, body = data.partition(b"\r\n\r\n")
                    print(json.dumps({
                        "status": int(head.split(b" ")[1]),
                        "body": body.decode(),
                        "version": tls.version(),
                        "leaf_sha256": hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest(),
                    }))

        def old(port):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                    with context.wrap_socket(raw) as tls:
                        print("connected", tls.version())
            except ssl.SSLError as error:
                print("refused", error.reason)

        if sys.argv[1] == "--old":
            old(int(sys.argv[2]))
        else:
            get(sys.argv[1], int(sys.argv[2]))
        """#

    struct Answer: Decodable {
        let status: Int
        let body: String
        let version: String
        let leaf_sha256: String
    }

    static var canRun: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    }

    /// A self-signed P-256 certificate for 127.0.0.1 at `<name>.pem` / `<name>.key`; returns the SHA-256 of its DER.
    static func makeCertificate(_ name: String, in directory: TestDirectory) async throws -> String {
        let generated = try await PorteroProcess.runProgram(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=portero-\(name)", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", directory.file("\(name).key"), "-out", directory.file("\(name).pem"),
            ],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        try #require(generated.status == 0, "\(generated.stderr)")
        let der = try await PorteroProcess.runProgram(
            "/usr/bin/openssl", ["x509", "-in", directory.file("\(name).pem"), "-outform", "der",
                "-out", directory.file("\(name).der")],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        try #require(der.status == 0, "\(der.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.file("\(name).der")))
        return sha256Hex(bytes)
    }

    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func tlsGet(ca: String, port: Int, script: String) async throws -> Answer? {
        let result = try await PorteroProcess.runProgram(
            "/usr/bin/python3", [script, ca, String(port)], environment: ["PATH": "/usr/bin:/bin"], timeout: .seconds(20))
        guard result.status == 0 else { return nil }
        return try? JSONDecoder().decode(Answer.self, from: Data(result.stdout.utf8))
    }

    /// Polls until a TLS GET trusting `ca` succeeds (the daemon just started or reloaded).
    static func waitForTLS(ca: String, port: Int, script: String, leaf: String? = nil) async throws -> Answer {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if let answer = try await tlsGet(ca: ca, port: port, script: script), leaf == nil || answer.leaf_sha256 == leaf {
                return answer
            }
            guard ContinuousClock.now < deadline else { throw TestClientError("no TLS answer on port \(port)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test(
        "TLS 1.2+ on TCP, plain HTTP on the Unix socket, certificate re-read on SIGHUP, bad files refused",
        .enabled("needs openssl and python3") { Self.canRun }
    )
    func tlsListener() async throws {
        let directory = try TestDirectory("tls")
        defer { directory.remove() }
        let first = try await Self.makeCertificate("first", in: directory)
        let second = try await Self.makeCertificate("second", in: directory)
        let script = try directory.write("client.py", Self.client)
        let certificate = directory.file("server.pem")
        let key = directory.file("server.key")
        try FileManager.default.copyItem(atPath: directory.file("first.pem"), toPath: certificate)
        try FileManager.default.copyItem(atPath: directory.file("first.key"), toPath: key)

        let daemon = try PorteroProcess(
            directory: directory, arguments: ["--tls-certificate", certificate, "--tls-key", key])
        try daemon.start()
        do {
            let port = try #require(daemon.port)
            let answer = try await Self.waitForTLS(ca: directory.file("first.pem"), port: port, script: script)
            #expect(answer.status == 200 && answer.body.contains("\"ok\""), "\(answer)")
            #expect(answer.leaf_sha256 == first)
            #expect(answer.version == "TLSv1.3" || answer.version == "TLSv1.2")

            // Plain HTTP to the TLS port gets no HTTP answer; the Unix socket is plain HTTP.
            let plain = try? await HTTPTestClient.request("GET", "/healthz", to: try daemon.tcp, timeout: 3)
            #expect(plain?.status != 200)
            let local = try await HTTPTestClient.request("GET", "/healthz", to: try daemon.unix)
            #expect(local.status == 200)

            // A client offering at most TLS 1.1 is refused by the server (its alert, not a local limit).
            let old = try await PorteroProcess.runProgram(
                "/usr/bin/python3", [script, "--old", String(port)], environment: ["PATH": "/usr/bin:/bin"])
            #expect(old.stdout.hasPrefix("refused"), "\(old.stdout) \(old.stderr)")
            #expect(old.stdout.uppercased().contains("PROTOCOL_VERSION"), "\(old.stdout)")

            // A renewed certificate in the same files: SIGHUP, and new connections get it.
            try FileManager.default.removeItem(atPath: certificate)
            try FileManager.default.removeItem(atPath: key)
            try FileManager.default.copyItem(atPath: directory.file("second.pem"), toPath: certificate)
            try FileManager.default.copyItem(atPath: directory.file("second.key"), toPath: key)
            daemon.signal(SIGHUP)
            let renewed = try await Self.waitForTLS(
                ca: directory.file("second.pem"), port: port, script: script, leaf: second)
            #expect(renewed.status == 200)

            // A certificate file that does not parse: the reload is refused and the second certificate stays.
            try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: certificate))
            daemon.signal(SIGHUP)
            let refused = await waitUntil(timeout: .seconds(20)) { daemon.stderrText.contains("config.reload_failed") }
            #expect(refused, "\(daemon.stderrText)")
            let kept = try await Self.waitForTLS(ca: directory.file("second.pem"), port: port, script: script)
            #expect(kept.leaf_sha256 == second)
            #expect(daemon.stderrText.contains("tls.certificate"))
            #expect(daemon.isRunning)
        } catch {
            await daemon.cleanUp()
            throw error
        }
        await daemon.stop()
        #expect(try await daemon.waitForExit() == 0)
        #expect(!daemon.stderrText.contains("BEGIN PRIVATE KEY"))
    }

    @Test(
        "a missing certificate or a key of another certificate stops start-up with exit 78 naming the key",
        .enabled("needs openssl and python3") { Self.canRun }
    )
    func badFilesRefused() async throws {
        let directory = try TestDirectory("tls-bad")
        defer { directory.remove() }
        _ = try await Self.makeCertificate("one", in: directory)
        _ = try await Self.makeCertificate("two", in: directory)
        let cases: [(certificate: String, key: String, expected: String)] = [
            (directory.file("missing.pem"), directory.file("one.key"), "tls.certificate"),
            (directory.file("one.pem"), directory.file("missing.key"), "tls.key"),
            (directory.file("one.pem"), directory.file("two.key"), "does not belong"),
            (directory.file("one.key"), directory.file("one.key"), "tls.certificate"),
        ]
        for item in cases {
            let result = try await PorteroProcess.run([
                "serve", "--data-dir", directory.file("data"), "--listen", "127.0.0.1:0", "--socket", "",
                "--tls-certificate", item.certificate, "--tls-key", item.key,
            ])
            #expect(result.status == 78, "\(item): \(result.stderr)")
            #expect(result.stderr.contains(item.expected), "\(item): \(result.stderr)")
            #expect(!result.stderr.contains("PRIVATE KEY"))
        }
    }
}
