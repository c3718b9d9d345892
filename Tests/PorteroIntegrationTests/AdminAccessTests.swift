import Foundation
import PorteroTestSupport
import Testing

/// The admin API decides by the Unix-socket peer's `SO_PEERCRED`, read on the request path: root (this test) may,
/// another user (`nobody`, through `setpriv`) may not unless `admin_group` names one of its groups, and over TCP the
/// admin API does not exist (404).
@Suite("Admin access by peer credentials", .serialized)
struct AdminAccessTests {
    static var canRun: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")
    }

    /// GET /admin/v1/stats over the Unix socket as uid 65534 (`nobody`) with the group `gid` (`nogroup` unless
    /// given); returns status and body.
    static func statsAsNobody(_ socket: String, gid: UInt32 = 65534) async throws -> (status: Int, body: String) {
        let result = try await PorteroProcess.runProgram(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=\(gid)", "--clear-groups", "/usr/bin/curl", "-sS", "--max-time", "10",
                "--unix-socket", socket, "-w", "\n%{http_code}", "http://localhost/admin/v1/stats",
            ],
            environment: ["PATH": "/usr/bin:/bin"]
        )
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    @Test(
        "root may, nobody may not (403 forbidden), TCP 404; admin_group lets a member in",
        .enabled("needs root, setpriv and curl") { Self.canRun }
    )
    func peerCredentialsDecide() async throws {
        let directory = try TestDirectory("admin")
        defer { directory.remove() }
        // `nobody` must reach the socket to be refused by the daemon rather than by the file system.
        chmod(directory.path, 0o711)
        let daemon = try PorteroProcess(directory: directory, arguments: ["--socket-mode", "0666"])
        try await daemon.startAndWait()
        do {
            let registered = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/register", to: try daemon.unix,
                json: ["email": "admin-stats@example.com", "password": "peer credentials 2026"])
            #expect(registered.status == 201)

            let stats = try await HTTPTestClient.request("GET", "/admin/v1/stats", to: try daemon.unix)
            #expect(stats.status == 200, "\(stats.text)")
            #expect(stats.json?["users"] as? Int == 1)
            #expect(stats.json?["verified_users"] as? Int == 0)
            #expect((stats.json?["store"] as? [String: Any])?["writable"] as? Bool == true)

            let overTCP = try await HTTPTestClient.request("GET", "/admin/v1/stats", to: try daemon.tcp)
            #expect(overTCP.status == 404)
            #expect(overTCP.json?["error"] as? String == "not_found")

            let nobody = try await Self.statsAsNobody(try #require(daemon.socketPath))
            #expect(nobody.status == 403, "\(nobody.body)")
            #expect(nobody.body.contains("\"forbidden\""))
            let denied = daemon.stderrText.split(separator: "\n").filter { $0.contains("admin.denied") }
            #expect(denied.count == 1 && denied.first?.contains("65534") == true, "\(daemon.stderrText)")
        } catch {
            await daemon.cleanUp()
            throw error
        }
        await daemon.stop()

        // With admin_group = staff, nobody with staff as its group may; with nogroup it still may not.
        let staff = try #require(getgrnam("staff")).pointee.gr_gid
        daemon.arguments += ["--admin-group", "staff"]
        try await daemon.startAndWait()
        do {
            let member = try await Self.statsAsNobody(try #require(daemon.socketPath), gid: staff)
            #expect(member.status == 200, "\(member.body)")
            #expect(member.body.contains("\"users\":1"))
            #expect(try await Self.statsAsNobody(try #require(daemon.socketPath)).status == 403)
        } catch {
            await daemon.cleanUp()
            throw error
        }
        await daemon.stop()

        let unknown = try await PorteroProcess.run([
            "serve", "--data-dir", directory.file("data2"), "--listen", "", "--socket", directory.file("x.sock"),
            "--admin-group", "no-such-group-portero",
        ])
        #expect(unknown.status == 78, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("admin_group"))

        // nogroup is what every user unmapped into the daemon's user namespace appears as: refused as admin_group.
        let overflow = try await PorteroProcess.run([
            "serve", "--data-dir", directory.file("data3"), "--listen", "", "--socket", directory.file("y.sock"),
            "--admin-group", "nogroup",
        ])
        #expect(overflow.status == 78, "\(overflow.stderr)")
        #expect(overflow.stderr.contains("admin_group") && overflow.stderr.contains("65534"), "\(overflow.stderr)")
    }
}
