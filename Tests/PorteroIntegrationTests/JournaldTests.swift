import Foundation
import PorteroTestSupport
import Testing

/// Structured logging into a private, real `systemd-journald` (in a mount namespace of its own, so the host's
/// journal — if any — is untouched), read back with `journalctl -o json`.
@Suite("journald", .serialized)
struct JournaldTests {
    /// Mounts tmpfs over /run/systemd and /run/log in this mount namespace only, starts journald there, runs the
    /// daemon given as arguments until OUT/stop appears, then exports the journal as JSON to OUT/journal.json.
    static let script = #"""
        #!/bin/bash
        set -eu
        OUT=$1; shift
        mkdir -p /run/systemd /run/log
        mount -t tmpfs tmpfs /run/systemd
        mount -t tmpfs tmpfs /run/log
        mkdir -p /run/systemd/journal /run/systemd/journald.conf.d /run/log/journal
        printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\nForwardToSyslog=no\n' \
            > /run/systemd/journald.conf.d/test.conf
        mount --bind /dev/null /dev/kmsg
        /lib/systemd/systemd-journald &
        JPID=$!
        for _ in $(seq 200); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
        "$@" &
        DPID=$!
        while [ ! -e "$OUT/stop" ] && kill -0 "$DPID" 2>/dev/null; do sleep 0.05; done
        kill -TERM "$DPID" 2>/dev/null || true
        wait "$DPID" || echo "daemon exit $?" > "$OUT/daemon.status"
        journalctl --sync 2>/dev/null || true
        journalctl -o json --no-pager > "$OUT/journal.json"
        kill "$JPID"; wait "$JPID" 2>/dev/null || true
        touch "$OUT/done"
        """#

    static var canRun: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd-journald")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    }

    @Test(
        "events reach journald as native fields, once each, without secrets",
        .enabled("needs root, unshare and systemd-journald (Debian package systemd)") { Self.canRun }
    )
    func nativeFields() async throws {
        let directory = try TestDirectory("journald")
        defer { directory.remove() }
        let script = try directory.write("journald.sh", Self.script, permissions: 0o755)
        let output = directory.file("out")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let port = try PorteroProcess.freePort()
        let password = "journal-visible-never-9"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--mount", "--propagation", "private", "/bin/bash", script, output,
            PorteroProcess.binaryPath, "serve", "--data-dir", directory.file("data"), "--listen", "127.0.0.1:\(port)",
            "--socket", "", "--log-format", "journal", "--mail-transport", "maildir",
        ]
        process.environment = PorteroProcess.cleanEnvironment()
        let log = directory.file("script.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = process.standardOutput
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer {
            _ = FileManager.default.createFile(atPath: directory.file("out/stop"), contents: nil)
            process.waitUntilExit()
        }

        let endpoint = TestEndpoint.tcp(host: "127.0.0.1", port: port)
        var ready = false
        for _ in 0..<600 where !ready && process.isRunning {
            ready = (try? await HTTPTestClient.request("GET", "/readyz", to: endpoint, timeout: 1))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(50)) }
        }
        try #require(ready, "daemon not ready: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let client = AuthFlowTests.Client(endpoint: endpoint, maildir: directory.file("data/mail"))
        let verified = try await client.verifiedUser("journal@example.com", password: password)
        let access = try #require(verified.json?["access_token"] as? String)
        let login = try await HTTPTestClient.request(
            "POST", "/api/v1/auth/login", to: endpoint, headers: ["X-Request-Id": "journal-test-1"],
            json: ["email": "journal@example.com", "password": password])
        #expect(login.status == 200)
        _ = try await client.post("/login", ["email": "journal@example.com", "password": "not-\(password)"])

        _ = FileManager.default.createFile(atPath: output + "/stop", contents: nil)
        #expect(await waitUntil(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: output + "/done") })
        let lines = try String(contentsOfFile: output + "/journal.json", encoding: .utf8).split(separator: "\n")
        let entries = lines.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.filter { $0["SYSLOG_IDENTIFIER"] as? String == "portero" }
        #expect(!entries.isEmpty, "no portero entries in \(lines.count) journal lines")

        let succeeded = entries.filter { $0["PORTERO_EVENT"] as? String == "login.succeeded" }
        let tagged = try #require(
            succeeded.first { $0["REQUEST_ID"] as? String == "journal-test-1" }, "\(succeeded)")
        #expect(succeeded.count == 1, "logged once per successful login (verify-email logs user.verified)")
        #expect(tagged["PRIORITY"] as? String == "6")
        #expect((tagged["PORTERO_USER_ID"] as? String)?.count == 36)
        #expect((tagged["PORTERO_EMAIL_HASH"] as? String)?.count == 64)
        #expect(tagged["REMOTE_ADDR"] as? String == "127.0.0.1")
        #expect((tagged["CODE_FILE"] as? String)?.isEmpty == false)
        #expect(tagged["CODE_LINE"] != nil && tagged["CODE_FUNC"] != nil)
        #expect(entries.contains { $0["PORTERO_EVENT"] as? String == "login.failed" && $0["PRIORITY"] as? String == "5" })
        #expect(entries.contains { $0["PORTERO_EVENT"] as? String == "user.registered" })
        #expect(entries.contains { $0["PORTERO_EVENT"] as? String == "startup" })

        let everything = lines.joined(separator: "\n")
        for secret in [password, access, "$argon2id$"] {
            #expect(!everything.contains(secret), "the journal holds a secret (\(secret.prefix(6))…)")
        }
    }
}
