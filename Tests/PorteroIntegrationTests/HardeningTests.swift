import Foundation
import Glibc
import PorteroTestSupport
import Testing

/// Issue 16 against the real binary: account pre-hijacking, guessing through /password/change, notices, limits
/// that hold under floods, per-client-address limits, planted symlinks and root-run commands.
@Suite("Hardening", .serialized)
struct HardeningTests {
    typealias Client = AuthFlowTests.Client

    @Test("pre-hijacking: registering an unverified address again starts over; the first password is gone")
    func preHijacking() async throws {
        try await withDaemon(arguments: ["--rate-register", "0", "--rate-login", "0"]) { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let attacker = try await client.post(
                "/register", ["email": "victim@example.com", "password": "attacker chose this", "name": "Mallory"])
            #expect(attacker.status == 201)
            let victim = try await client.post(
                "/register", ["email": "Victim@example.com", "password": "victim chose this", "name": "Vera"])
            #expect(victim.status == 201, "\(victim.text)")
            #expect(victim.json?["verification_required"] as? Bool == true)
            // The second code is the live one; the attacker's token names an account that is gone.
            let code = try await client.code(for: "Victim@example.com")
            let withOldToken = try await client.post(
                "/verify-email", ["code": code], token: attacker.json?["verification_token"] as? String)
            #expect(withOldToken.status == 404, "\(withOldToken.text)")
            let verified = try await client.post("/verify-email", ["email": "victim@example.com", "code": code])
            #expect(verified.status == 200, "\(verified.text)")
            #expect((verified.json?["user"] as? [String: Any])?["name"] as? String == "Vera")
            let stolen = try await client.post(
                "/login", ["email": "victim@example.com", "password": "attacker chose this"])
            #expect(stolen.status == 401)
            let own = try await client.post("/login", ["email": "victim@example.com", "password": "victim chose this"])
            #expect(own.status == 200)
            let again = try await client.post(
                "/register", ["email": "victim@example.com", "password": "attacker chose this"])
            #expect(again.status == 409)
            #expect(daemon.stderrText.contains("registration.restarted"))
        }
    }

    @Test("/password/change: wrong guesses lock the account and are logged; per-user budget; a notice is mailed")
    func passwordChangeGuessing() async throws {
        try await withDaemon(arguments: ["--rate-login", "5/15m", "--lockout-max-failures", "3"]) { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let ana = try await client.verifiedUser("ana@example.com", password: "the right password")
            let token = try #require(ana.json?["access_token"] as? String)
            var statuses: [Int] = []
            for _ in 0..<5 {
                let guess = try await client.post(
                    "/password/change", ["current_password": "a wrong guess", "new_password": "a new password 1"],
                    token: token)
                statuses.append(Int(guess.status))
                #expect(guess["x-ratelimit-limit"] == "5")
            }
            // Three counted failures, then locked (423 without a hash), for /login too.
            #expect(statuses == [401, 401, 401, 423, 423])
            let locked = try await client.post(
                "/password/change", ["current_password": "the right password", "new_password": "a new password 1"],
                token: token)
            #expect(locked.status == 429, "the per-user budget of 5 is spent")
            let login = try await client.post("/login", ["email": "ana@example.com", "password": "the right password"])
            #expect(login.status == 423)
            let log = daemon.stderrText
            #expect(log.contains("\"reason\":\"password_change\"") || log.contains("reason=password_change"), "\(log)")
            #expect(log.contains("account.locked"))
            #expect(!log.contains("a wrong guess"))

            // Another user's change goes through and mails a notice without a code.
            let bob = try await client.verifiedUser("bob@example.com", password: "bobs old password")
            let changed = try await client.post(
                "/password/change", ["current_password": "bobs old password", "new_password": "bobs new password"],
                token: bob.json?["access_token"] as? String)
            #expect(changed.status == 200, "\(changed.text)")
            let notice = try await Self.waitForMail(
                in: client.maildir, to: "bob@example.com", containing: "was changed")
            #expect(notice.contains("If this was not you"))
            #expect(MaildirReader.code(in: notice) == nil)
        }
    }

    @Test("per client address: verification-status, forgot, reset and resend share no budget with a flood")
    func perClientAddress() async throws {
        try await withDaemon(arguments: ["--rate-verify", "2/15m", "--rate-forgot", "0", "--rate-resend", "0"]) {
            daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            for (index, expected) in [404, 404, 429].enumerated() {
                let status = try await client.get("/verification-status?email=probe\(index)@example.com")
                #expect(Int(status.status) == expected)
            }
            for (index, expected) in [202, 202, 429].enumerated() {
                let forgot = try await client.post("/password/forgot", ["email": "someone\(index)@example.com"])
                #expect(Int(forgot.status) == expected)
            }
            for (index, expected) in [400, 400, 429].enumerated() {
                let reset = try await client.post(
                    "/password/reset",
                    ["email": "someone\(index)@example.com", "code": "123456", "new_password": "long enough pass"])
                #expect(Int(reset.status) == expected, "\(reset.text)")
            }
            for (index, expected) in [404, 404, 429].enumerated() {
                let resend = try await client.post("/resend-verification", ["email": "nobody\(index)@example.com"])
                #expect(Int(resend.status) == expected)
            }
            // The Unix socket is another client address.
            let unix = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(try await unix.get("/verification-status?email=probe@example.com").status == 404)
        }
    }

    @Test("a flood of other emails never resets a limited one; a full table refuses (429) and logs once")
    func floodFailsClosed() async throws {
        // 1000 per email per hour: the limiter tracks 1,000,000 / 1000 = 1000 emails.
        try await withDaemon(arguments: ["--rate-forgot", "1000/1h", "--rate-verify", "0"]) { daemon in
            let endpoint = try daemon.tcp
            func forgot(_ email: String) async throws -> Int {
                Int(
                    try await HTTPTestClient.request(
                        "POST", AuthFlowTests.base + "/password/forgot", to: endpoint, json: ["email": email]
                    ).status)
            }
            func flood(_ emails: [String]) async throws -> [Int] {
                try await withThrowingTaskGroup(of: [Int].self) { group in
                    for lane in 0..<8 {
                        group.addTask {
                            var statuses: [Int] = []
                            for index in stride(from: lane, to: emails.count, by: 8) {
                                statuses.append(try await forgot(emails[index]))
                            }
                            return statuses
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            let victim = try await flood(Array(repeating: "victim@example.com", count: 1000))
            #expect(victim.allSatisfy { $0 == 202 })
            #expect(try await forgot("victim@example.com") == 429)
            let others = try await flood((0..<1100).map { "other\($0)@example.com" })
            #expect(others.filter { $0 == 202 }.count == 999, "the table holds 1000 emails, the victim's among them")
            #expect(others.filter { $0 == 429 }.count == 101)
            #expect(try await forgot("victim@example.com") == 429, "still limited after the flood")
            let log = daemon.stderrText
            #expect(log.components(separatedBy: "rate.limiter_full").count - 1 == 1, "logged once a minute")
        }
    }

    @Test("the lockout state keeps an address without an account only as a keyed hash, on disk too")
    func unknownAddressesHashed() async throws {
        try await withDaemon(arguments: ["--rate-login", "0", "--lockout-max-failures", "2"]) { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            var statuses: [Int] = []
            for _ in 0..<3 {
                let login = try await client.post(
                    "/login", ["email": "ghost.trial@example.com", "password": "guess guess guess"])
                statuses.append(Int(login.status))
            }
            #expect(statuses == [401, 401, 423], "an unknown address still locks")
            var files: [String] = []
            let walker = FileManager.default.enumerator(atPath: daemon.dataDirectory)
            while let name = walker?.nextObject() as? String {
                let path = daemon.dataDirectory + "/" + name
                if Self.attributes(path)?[.type] as? FileAttributeType == .typeRegular { files.append(path) }
            }
            let stored = try files.map { try String(contentsOfFile: $0, encoding: .isoLatin1) }.joined()
            #expect(stored.contains("\"login.failed\""), "the failures were written")
            #expect(stored.contains("hmac-sha256:"))
            #expect(!stored.contains("ghost.trial"), "the address itself is nowhere in the data directory")
        }
    }

    @Test("session.max_age ends a rotated session; expired lockout entries and unverified accounts leave the snapshot")
    func lifetimes() async throws {
        let daemon = try PorteroProcess(arguments: [
            "--rate-login", "0", "--rate-register", "0", "--session-max-age", "4s", "--lockout-duration", "2s",
            "--registration-unverified-ttl", "2s",
        ])
        defer { daemon.directory.remove() }
        try await daemon.startAndWait()
        let client = Client(endpoint: try daemon.tcp, daemon: daemon)
        let ana = try await client.verifiedUser("ana@example.com", password: "the right password")
        // Taken after the login answered, so the session is at least this old however long the hashes took.
        let loginAt = ContinuousClock.now
        let first = try #require(ana.json?["refresh_token"] as? String)
        let failed = try await client.post("/login", ["email": "ghost@example.com", "password": "guess guess guess"])
        #expect(failed.status == 401)
        let pending = try await client.post("/register", ["email": "late@example.com", "password": "never verified 1"])
        #expect(pending.status == 201)
        // A rotation slides the session by refresh_ttl (30d), but never past 4 s after the login.
        let rotated = try await client.post("/refresh", ["refresh_token": first])
        #expect(rotated.status == 200, "\(rotated.text)")
        let second = try #require(rotated.json?["refresh_token"] as? String)
        try await Task.sleep(until: loginAt + .milliseconds(4500))
        let ended = try await client.post("/refresh", ["refresh_token": second])
        #expect(ended.status == 401, "\(ended.text)")
        #expect(try await client.get("/verification-status?email=late@example.com").status == 404)
        // The snapshot taken at SIGTERM keeps the verified account and drops what ran out.
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory)
        let newest = try #require(names.filter { $0.hasPrefix("snapshot-") && $0.hasSuffix(".json") }.sorted().last)
        let snapshot = try String(contentsOfFile: daemon.dataDirectory + "/" + newest, encoding: .utf8)
        #expect(snapshot.contains("ana@example.com"))
        #expect(!snapshot.contains("late@example.com"), "the unverified account is gone")
        #expect(!snapshot.contains("hmac-sha256:"), "the lockout entry ran out with its window")
    }

    @Test("planted symlinks: LOCK and the .broken copy are never followed")
    func plantedSymlinks() async throws {
        let outside = try TestDirectory("outside")
        defer { outside.remove() }
        let target = try outside.write("precious", "do not touch\n", permissions: 0o644)

        // A LOCK that points elsewhere: --repair (which takes the lock) refuses, naming it; a plain check reads
        // without the lock, as it does when the lock file cannot be opened. The target keeps its mode either way.
        let daemon = try PorteroProcess()
        defer { daemon.directory.remove() }
        try FileManager.default.createDirectory(atPath: daemon.dataDirectory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: daemon.dataDirectory + "/LOCK", withDestinationPath: target)
        let repair = try await PorteroProcess.run(["check", "--repair", "--data-dir", daemon.dataDirectory])
        #expect(repair.status != 0)
        #expect((repair.stderr + repair.stdout).contains("LOCK"), "\(repair.stderr)\(repair.stdout)")
        let check = try await PorteroProcess.run(["check", "--data-dir", daemon.dataDirectory])
        #expect(check.status == 0, "\(check.stderr)\(check.stdout)")
        #expect(try Self.mode(target) == 0o644)

        // A dangling .broken link: --repair writes its copy beside it, never through it.
        try FileManager.default.removeItem(atPath: daemon.dataDirectory + "/LOCK")
        try await daemon.startAndWait()
        let registered = try await HTTPTestClient.request(
            "POST", AuthFlowTests.base + "/register", to: try daemon.tcp,
            json: ["email": "link@example.com", "password": "a fine password"])
        #expect(registered.status == 201)
        daemon.signal(SIGKILL)
        _ = try await daemon.waitForExit()
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory)
                .filter { $0.hasPrefix("log-") && $0.hasSuffix(".jsonl") }.sorted().last)
        let path = daemon.dataDirectory + "/" + segment
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"seq\":99,\"at\":".utf8))
        try handle.close()
        let dangling = outside.file("planted")
        try FileManager.default.createSymbolicLink(atPath: path + ".broken", withDestinationPath: dangling)
        let repaired = try await PorteroProcess.run(["check", "--repair", "--data-dir", daemon.dataDirectory])
        #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dangling), "nothing was written through the link")
        #expect(FileManager.default.fileExists(atPath: path + ".broken.1"))
    }

    @Test("run as root on a directory another user owns, a command becomes that user or says how to run it")
    func rootSwitchesToTheOwner() async throws {
        guard geteuid() == 0 else { return }
        let nobody: uid_t = 65534
        // A parent the owner can search, and one it cannot.
        let open = try TestDirectory("owned")
        defer { open.remove() }
        chmod(open.path, 0o755)
        let data = open.file("data")
        mkdir(data, 0o700)
        chown(data, nobody, gid_t(nobody))
        let rotated = try await PorteroProcess.run(["keys", "rotate", "--data-dir", data, "--jwt-algorithm", "EdDSA"])
        #expect(rotated.status == 0, "\(rotated.stdout)\(rotated.stderr)")
        // The daemon does not switch (it may need root for its listeners): it refuses, saying how to run it.
        let serve = try await PorteroProcess.run(
            ["serve", "--data-dir", data, "--listen", "", "--socket", open.file("refused.sock")],
            timeout: .seconds(20))
        #expect(serve.status != 0)
        #expect(serve.stderr.contains("sudo -u"), "\(serve.stderr)")
        let keys = try FileManager.default.contentsOfDirectory(atPath: data + "/keys")
        #expect(!keys.isEmpty)
        for name in keys + [""] {
            let owner = (Self.attributes(data + "/keys/" + name)?[.ownerAccountID] as? NSNumber)?.uint32Value
            #expect(owner == nobody, "\(name) belongs to the directory's owner, not root")
        }

        let closed = try TestDirectory("closed")
        defer { closed.remove() }
        chmod(closed.path, 0o700)
        let hidden = closed.file("data")
        mkdir(hidden, 0o700)
        chown(hidden, nobody, gid_t(nobody))
        let refused = try await PorteroProcess.run(["check", "--data-dir", hidden])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("sudo -u"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: hidden).isEmpty, "nothing was created as root")
    }

    static func mode(_ path: String) throws -> mode_t {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let mode = (attributes(target)?[.posixPermissions] as? NSNumber)?.uint32Value else {
            throw TestClientError("stat \(path)")
        }
        return mode_t(mode) & 0o7777
    }

    /// lstat(2) through FileManager: `struct stat`'s members belong to whichever C module (Glibc, CDispatch,
    /// CNIOLinux) the compiler loaded it from first, which depends on the files compiled beside this one.
    static func attributes(_ path: String) -> [FileAttributeKey: Any]? {
        try? FileManager.default.attributesOfItem(atPath: path)
    }

    /// Polls the Maildir for a message to `address` containing `text`.
    static func waitForMail(in maildir: String, to address: String, containing text: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let message = MaildirReader.messages(in: maildir, to: address).first(where: { $0.contains(text) }) {
                return message
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestClientError("no mail to \(address) containing \(text)")
    }
}
