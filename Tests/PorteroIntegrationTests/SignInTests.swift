import Foundation
import PorteroTestSupport
import Testing

/// The sign-in page through the built binary and real peers: Debian's nginx serving `examples/nginx/signin-app.conf`
/// (`error_page 401` sends a browser to `/signin`), and a real headless chromium driven by selenium
/// (`harness/browser/signin_flow.py`) that opens the protected app, lands on the sign-in page, signs in, arrives
/// back at the app, signs out and is asked again.
@Suite("Sign-in page and cookie through nginx and a browser", .serialized)
struct SignInTests {
    static let hasPeers =
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")

    @Test(.enabled(if: hasPeers, "needs Debian's nginx, chromium and chromium-driver"))
    func aBrowserSignsInThroughNginxAndSignsOut() async throws {
        let arguments = [
            "--cookie-enabled", "true", "--cookie-secure", "false", "--forward-auth-redirect-hosts", "127.0.0.1",
        ]
        try await withDaemon(arguments: arguments) { daemon in
            let nginx = try await Nginx(socket: try #require(daemon.socketPath), example: "signin-app.conf")
            defer { nginx.stop() }
            let site = TestEndpoint.tcp(host: "127.0.0.1", port: nginx.port)
            let base = "http://127.0.0.1:\(nginx.port)"
            let client = AuthFlowTests.Client(endpoint: try daemon.unix, daemon: daemon)
            _ = try await client.verifiedUser("ada@example.com", password: LocalAppTests.password)

            // What nginx answers a browser that is not signed in, and a hostile return address.
            // (The test client sends `Host: localhost`, which nginx puts in `rd` and in the absolute `Location`.)
            let anonymous = try await HTTPTestClient.request("GET", "/", to: site)
            #expect(anonymous.status == 302, "\(anonymous.text) \(nginx.errors)")
            #expect(anonymous.headers["location"] == "http://localhost:\(nginx.port)/signin?rd=http://localhost/")
            let hostile = try await HTTPTestClient.request("GET", "/signin?rd=https://evil.example/", to: site)
            #expect(hostile.status == 400)

            // The python3 `make test-deps` installed selenium for (the first on PATH).
            let environment = ProcessInfo.processInfo.environment.filter {
                ["PATH", "HOME", "PYENV_ROOT"].contains($0.key)
            }
            let browser = try await PorteroProcess.runProgram(
                "/usr/bin/env",
                [
                    "python3", LocalAppTests.root + "/harness/browser/signin_flow.py", base, "ada@example.com",
                    LocalAppTests.password,
                ],
                environment: environment, timeout: .seconds(90))
            #expect(browser.status == 0, "\(browser.stdout) \(browser.stderr.suffix(2000)) \(nginx.errors)")
            let seen = try #require(
                try JSONSerialization.jsonObject(with: Data(browser.stdout.utf8)) as? [String: Any], "\(browser.stderr)"
            )
            #expect(seen["app_text"] as? String == "hello ada@example.com (user)")
            #expect(seen["asked_again"] as? String == "/signin")
        }
    }
}
