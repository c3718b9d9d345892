import Foundation
import PorteroTestSupport
import Testing

/// Local apps and reverse proxies against real peers and the built binary: the example Python app introspecting
/// over the Unix socket, and Debian's nginx protecting a location with `auth_request` to that socket. Both run the
/// files under `examples/` that the README shows.
@Suite("Local apps and reverse proxies", .serialized)
struct LocalAppTests {
    /// The repository's root, where `examples/` lives.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let password = "analytical engine 1843"

    @Test func aPythonLocalAppIntrospectsOverTheSocket() async throws {
        try await withDaemon { daemon in
            let socket = try #require(daemon.socketPath)
            let client = AuthFlowTests.Client(endpoint: try daemon.unix, daemon: daemon)
            let verified = try await client.verifiedUser("ada@example.com", password: Self.password)
            let token = try #require(verified.json?["access_token"] as? String)
            let app = { (token: String) in
                try await PorteroProcess.runProgram(
                    "/usr/bin/python3",
                    [Self.root + "/examples/local-app/portero_introspect.py", "--socket", socket, token],
                    environment: ["PATH": "/usr/bin:/bin"])
            }

            let active = try await app(token)
            #expect(active.status == 0, "\(active.stderr)")
            let claims = try #require(
                try JSONSerialization.jsonObject(with: Data(active.stdout.utf8)) as? [String: Any])
            #expect(claims["active"] as? Bool == true)
            #expect(claims["email"] as? String == "ada@example.com")
            #expect(claims["roles"] as? [String] == ["user"])
            #expect(claims["sub"] as? String == (verified.json?["user"] as? [String: Any])?["id"] as? String)

            let refresh = try #require(verified.json?["refresh_token"] as? String)
            let wrongKind = try await app(refresh)
            #expect(wrongKind.status == 1)
            #expect(wrongKind.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == #"{"active": false}"#)

            let logout = try await client.post("/logout", [:], token: token)
            #expect(logout.status == 200)
            let revoked = try await app(token)
            #expect(revoked.status == 1, "a logged-out token still introspected as active: \(revoked.stdout)")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx"), "needs Debian's nginx"))
    func nginxAuthRequestProtectsALocation() async throws {
        try await withDaemon { daemon in
            let socket = try #require(daemon.socketPath)
            let nginx = try await Nginx(socket: socket)
            defer { nginx.stop() }
            let site = TestEndpoint.tcp(host: "127.0.0.1", port: nginx.port)
            let client = AuthFlowTests.Client(endpoint: try daemon.unix, daemon: daemon)

            let anonymous = try await HTTPTestClient.request(
                "GET", "/", to: site, headers: ["X-Auth-Email": "forged@example.com"])
            #expect(anonymous.status == 401, "\(anonymous.text)")

            let verified = try await client.verifiedUser("ada@example.com", password: Self.password)
            let token = try #require(verified.json?["access_token"] as? String)
            let bearer = ["Authorization": "Bearer \(token)", "X-Auth-Email": "forged@example.com"]
            let signedIn = try await HTTPTestClient.request("GET", "/", to: site, headers: bearer)
            #expect(signedIn.status == 200, "\(signedIn.text) \(nginx.errors)")
            #expect(signedIn.text == "hello ada@example.com (user)\n")

            let admin = try await HTTPTestClient.request("GET", "/admin/", to: site, headers: bearer)
            #expect(admin.status == 403)

            let logout = try await client.post("/logout", [:], token: token)
            #expect(logout.status == 200)
            let afterLogout = try await HTTPTestClient.request("GET", "/", to: site, headers: bearer)
            #expect(afterLogout.status == 401)
        }
    }
}

extension LocalAppTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/caddy"), "needs Debian's caddy"))
    func caddyForwardAuthProtectsASite() async throws {
        try await withDaemon { daemon in
            let caddy = try await Caddy(socket: try #require(daemon.socketPath))
            defer { caddy.stop() }
            let site = TestEndpoint.tcp(host: "127.0.0.1", port: caddy.port)
            let client = AuthFlowTests.Client(endpoint: try daemon.unix, daemon: daemon)

            let anonymous = try await HTTPTestClient.request("GET", "/", to: site)
            #expect(anonymous.status == 401, "\(anonymous.text)")
            #expect(anonymous.json?["error"] as? String == "missing_token")

            let verified = try await client.verifiedUser("ada@example.com", password: Self.password)
            let token = try #require(verified.json?["access_token"] as? String)
            let bearer = ["Authorization": "Bearer \(token)", "X-Auth-Email": "forged@example.com"]
            let signedIn = try await HTTPTestClient.request("GET", "/", to: site, headers: bearer)
            #expect(signedIn.status == 200, "\(signedIn.text)")
            #expect(signedIn.text == "hello ada@example.com (user)")

            #expect(try await client.post("/logout", [:], token: token).status == 200)
            let afterLogout = try await HTTPTestClient.request("GET", "/", to: site, headers: bearer)
            #expect(afterLogout.status == 401)
            #expect(afterLogout.json?["error"] as? String == "token_revoked")
        }
    }
}

/// Debian's caddy in the foreground serving `examples/caddy/Caddyfile` with its port and socket path replaced, in
/// front of a stand-in app (another site of the same caddy) that echoes who caddy says is signed in.
final class Caddy {
    let process = Process()
    let directory: TestDirectory
    let port: Int

    init(socket: String) async throws {
        directory = try TestDirectory()
        port = try PorteroProcess.freePort()
        let appPort = try PorteroProcess.freePort()
        let example = try String(contentsOfFile: LocalAppTests.root + "/examples/caddy/Caddyfile", encoding: .utf8)
        let site = example.replacingOccurrences(of: ":8080 {", with: ":\(port) {\n\tbind 127.0.0.1")
            .replacingOccurrences(of: "127.0.0.1:8081", with: "127.0.0.1:\(appPort)")
            .replacingOccurrences(of: "/run/portero/portero.sock", with: socket)
        let path = try directory.write(
            "Caddyfile",
            """
            {
            \tadmin off
            \tauto_https off
            }
            :\(appPort) {
            \tbind 127.0.0.1
            \trespond "hello {http.request.header.X-Auth-Email} ({http.request.header.X-Auth-Roles})"
            }
            \(site)
            """)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/caddy")
        process.arguments = ["run", "--config", path, "--adapter", "caddyfile"]
        process.environment = [
            "HOME": directory.path, "XDG_DATA_HOME": directory.path, "XDG_CONFIG_HOME": directory.path,
            "PATH": "/usr/bin:/bin",
        ]
        _ = FileManager.default.createFile(atPath: directory.file("caddy.log"), contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("caddy.log")))
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let endpoint = TestEndpoint.tcp(host: "127.0.0.1", port: appPort)
        var listening = false
        let deadline = ContinuousClock.now + .seconds(20)
        while !listening, process.isRunning, ContinuousClock.now < deadline {
            listening = (try? await HTTPTestClient.request("GET", "/", to: endpoint, timeout: 2)) != nil
            if !listening { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard listening else {
            let output = (try? String(contentsOfFile: directory.file("caddy.log"), encoding: .utf8)) ?? ""
            stop()
            throw TestClientError("caddy did not start: \(output)")
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        directory.remove()
    }
}

/// Debian's nginx in the foreground as one process, serving an example of `examples/nginx/` with its ports and
/// socket path replaced, in front of a stand-in app (another nginx server) that echoes who nginx says is signed in.
final class Nginx {
    let process = Process()
    let directory: TestDirectory
    let port: Int

    init(socket: String, example: String = "protected-app.conf") async throws {
        directory = try TestDirectory()
        port = try PorteroProcess.freePort()
        let appPort = try PorteroProcess.freePort()
        let text = try String(contentsOfFile: LocalAppTests.root + "/examples/nginx/" + example, encoding: .utf8)
        let site = text.replacingOccurrences(of: "listen 8080;", with: "listen 127.0.0.1:\(port);")
            .replacingOccurrences(of: "127.0.0.1:8081", with: "127.0.0.1:\(appPort)")
            .replacingOccurrences(of: "/run/portero/portero.sock", with: socket)
        try directory.write("site.conf", site)
        let path = directory.path
        try directory.write(
            "nginx.conf",
            """
            daemon off;
            master_process off;
            pid \(path)/nginx.pid;
            error_log \(path)/error.log info;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(path)/body;
                proxy_temp_path \(path)/proxy;
                fastcgi_temp_path \(path)/fastcgi;
                uwsgi_temp_path \(path)/uwsgi;
                scgi_temp_path \(path)/scgi;
                server {
                    listen 127.0.0.1:\(appPort);
                    location / { return 200 "hello $http_x_auth_email ($http_x_auth_roles)\\n"; }
                }
                include \(path)/site.conf;
            }
            """)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-p", path, "-c", path + "/nginx.conf", "-e", path + "/error.log"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let endpoint = TestEndpoint.tcp(host: "127.0.0.1", port: port)
        var listening = false
        let deadline = ContinuousClock.now + .seconds(20)
        while !listening, process.isRunning, ContinuousClock.now < deadline {
            listening = (try? await HTTPTestClient.request("GET", "/_ready", to: endpoint, timeout: 2)) != nil
            if !listening { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard listening else {
            stop()
            throw TestClientError("nginx did not start: \(errors)")
        }
    }

    /// nginx's error log (its configuration errors and refused subrequests).
    var errors: String { (try? String(contentsOfFile: directory.file("error.log"), encoding: .utf8)) ?? "" }

    /// SIGKILL: without a master process nginx keeps the signal mask it inherits from the test runner, where
    /// SIGTERM is blocked, so it would never see a polite stop.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        directory.remove()
    }
}
