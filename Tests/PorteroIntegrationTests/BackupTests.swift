import Foundation
import PorteroTestSupport
import Testing

/// `portero backup DEST` against a running daemon over its real Unix socket, while registrations go on: the copy
/// holds every write acknowledged before the command, `portero check` passes on it, `portero serve` starts from it
/// (tokens signed before still verify: the keys came along), and what must be refused is.
@Suite("Online backup", .serialized)
struct BackupTests {
    static var canRun: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    static let password = "backup test 2026 horse"

    static func register(_ endpoint: TestEndpoint, _ email: String) async throws -> Int {
        try await HTTPTestClient.request(
            "POST", "/api/v1/auth/register", to: endpoint, json: ["email": email, "password": Self.password]
        ).status
    }

    @Test(
        "a backup taken while registrations go on holds every acknowledged one; check passes; serve starts from it",
        .enabled("needs root and setpriv") { Self.canRun }
    )
    func backupWhileWriting() async throws {
        let directory = try TestDirectory("backup")
        defer { directory.remove() }
        chmod(directory.path, 0o711)
        let daemon = try PorteroProcess(
            directory: directory, arguments: ["--socket-mode", "0666", "--rate-register", "10000/1m"])
        try await daemon.startAndWait()
        let socket = try #require(daemon.socketPath)
        let destination = directory.file("copy")
        var accessToken = ""
        var acknowledged: [String] = []
        do {
            // A verified user with an access token, signed by the daemon's key.
            let email = "kept@example.com"
            #expect(try await Self.register(try daemon.unix, email) == 201)
            let code = try await MaildirReader.waitForCode(in: daemon.dataDirectory + "/mail", to: email)
            let verified = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/verify-email", to: try daemon.unix, json: ["email": email, "code": code])
            accessToken = try #require(verified.json?["access_token"] as? String, "\(verified.text)")

            // Writers keep registering while the backup runs; the ones acknowledged before it began must be in it.
            let endpoint = try daemon.unix
            let writers = Task {
                var statuses: [(String, Int)] = []
                for index in 0..<400 {
                    if Task.isCancelled { break }
                    let address = "writer\(index)@example.com"
                    statuses.append((address, (try? await Self.register(endpoint, address)) ?? -1))
                }
                return statuses
            }
            let users = { () async throws -> Int in
                try await HTTPTestClient.request("GET", "/admin/v1/stats", to: try daemon.unix).json?["users"]
                    as? Int ?? 0
            }
            while try await users() < 20 { try await Task.sleep(for: .milliseconds(5)) }
            let before = try await HTTPTestClient.request("GET", "/admin/v1/users?limit=500", to: try daemon.unix)
            acknowledged = ((before.json?["users"] as? [[String: Any]]) ?? []).compactMap { $0["email"] as? String }
            let backup = try await PorteroProcess.run(["backup", destination, "--socket", socket])
            // The writer was registering throughout and goes on after the backup (which may be quicker than one
            // registration's password hash on a loaded machine, so progress during it is not required).
            let deadline = ContinuousClock.now + .seconds(30)
            var afterwards = try await users()
            while afterwards <= acknowledged.count + 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                afterwards = try await users()
            }
            writers.cancel()
            let written = await writers.value
            #expect(backup.status == 0, "\(backup)")
            #expect(backup.stdout.contains("backup written to \(destination)"), "\(backup.stdout)")
            #expect(written.filter { $0.1 == 201 }.count >= acknowledged.count - 1)
            #expect(written.dropLast().allSatisfy { $0.1 == 201 }, "\(written.filter { $0.1 != 201 })")
            #expect(afterwards > acknowledged.count + 1, "the writer stopped")

            // Refused: an existing non-empty directory, a link, and a member of admin_group (not root).
            let again = try await PorteroProcess.run(["backup", destination, "--socket", socket])
            AdminCLITests.expectOneLineFailure(again, containing: ["is not empty", "new directory"])
            symlink(directory.file("elsewhere"), directory.file("link"))
            let linked = try await PorteroProcess.run(["backup", directory.file("link"), "--socket", socket])
            AdminCLITests.expectOneLineFailure(linked, containing: ["not a directory"])
            #expect(!FileManager.default.fileExists(atPath: directory.file("elsewhere")))
        } catch {
            await daemon.cleanUp()
            throw error
        }
        await daemon.stop()

        // The copy: 0700, files 0600, a snapshot and the keys, no log, no LOCK, no mail.
        let names = try FileManager.default.contentsOfDirectory(atPath: destination).sorted()
        #expect(names.count == 2 && names[0] == "keys" && names[1].hasPrefix("snapshot-"), "\(names)")
        let mode = { (path: String) in
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue
        }
        #expect(mode(destination) == 0o700 && mode(destination + "/keys") == 0o700)
        #expect(mode(destination + "/" + names[1]) == 0o600 && mode(destination + "/keys/code-hmac") == 0o600)

        let check = try await PorteroProcess.run(["check", "--data-dir", destination])
        #expect(check.status == 0, "\(check)")

        // serve from the copy: every user acknowledged before the backup is there, and the old token verifies.
        let restored = try PorteroProcess(arguments: ["--socket-mode", "0666"])
        try FileManager.default.moveItem(atPath: destination, toPath: restored.dataDirectory)
        try await restored.startAndWait()
        do {
            let listed = try await HTTPTestClient.request("GET", "/admin/v1/users?limit=500", to: try restored.unix)
            let emails = Set(((listed.json?["users"] as? [[String: Any]]) ?? []).compactMap { $0["email"] as? String })
            #expect(acknowledged.count >= 20)
            #expect(Set(acknowledged).isSubset(of: emails), "\(Set(acknowledged).subtracting(emails))")
            let profile = try await HTTPTestClient.request(
                "GET", "/api/v1/auth/profile", to: try restored.tcp, headers: ["Authorization": "Bearer " + accessToken]
            )
            #expect(profile.status == 200, "\(profile.text)")
            let login = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/login", to: try restored.tcp,
                json: ["email": "kept@example.com", "password": Self.password])
            #expect(login.status == 200, "\(login.text)")
        } catch {
            await restored.cleanUp()
            throw error
        }
        await restored.cleanUp()
    }

    @Test(
        "a member of admin_group may manage users but not take a backup",
        .enabled("needs root and setpriv") { Self.canRun })
    func backupNeedsRootOrDaemonUser() async throws {
        let directory = try TestDirectory("backup-denied")
        defer { directory.remove() }
        chmod(directory.path, 0o777)
        let daemon = try PorteroProcess(
            directory: directory, arguments: ["--socket-mode", "0666", "--admin-group", "staff"])
        try await daemon.startAndWait()
        do {
            let staff = try #require(getgrnam("staff")).pointee.gr_gid
            let socket = try #require(daemon.socketPath)
            let asMember = { (arguments: [String]) in
                try await PorteroProcess.runProgram(
                    "/usr/bin/setpriv",
                    ["--reuid=65534", "--regid=\(staff)", "--clear-groups", PorteroProcess.binaryPath]
                        + arguments + ["--socket", socket],
                    environment: ["PATH": "/usr/bin:/bin"])
            }
            #expect(try await asMember(["users", "list"]).status == 0)
            let refused = try await asMember(["backup", directory.file("member-copy")])
            AdminCLITests.expectOneLineFailure(refused, containing: ["access denied", "signing keys"])
            #expect(!FileManager.default.fileExists(atPath: directory.file("member-copy")))
        } catch {
            await daemon.cleanUp()
            throw error
        }
        await daemon.cleanUp()
    }
}
