import Foundation
import PorteroTestSupport
import Synchronization
import Testing

/// `kill -9` of a real `portero serve` under concurrent writes: every acknowledged write is there afterwards.
@Suite("Crash safety", .serialized)
struct KillTests {
    @Test("kill -9 under concurrent registrations loses no acknowledged write", arguments: [1, 2, 3])
    func killNine(cycle: Int) async throws {
        let daemon = try PorteroProcess(arguments: ["--rate-register", "0", "--rate-verify", "0"])
        try await daemon.startAndWait()
        let endpoint = try daemon.tcp
        let shared = WriterLedger()
        let target = 15 + 5 * cycle

        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    var index = 0
                    while !shared.stop.load(ordering: .relaxed) {
                        let email = "kill\(cycle)-w\(writer)-\(index)@example.com"
                        index += 1
                        // The default timeout, not a short one: under load a registration's argon2id hash (on
                        // threads at nice 10) can take seconds, and a writer takes a missing answer for the kill.
                        let answer = try? await HTTPTestClient.request(
                            "POST", "/api/v1/auth/register", to: endpoint,
                            json: ["email": email, "password": "correct horse battery \(index)"])
                        if answer?.status == 201 {
                            shared.acknowledged.withLock { $0.append(email) }
                        } else if answer == nil {
                            return  // the daemon is gone
                        }
                    }
                }
            }
            // Let writes flow, then kill while they are in flight. Each cycle kills at a different count. The
            // deadline is generous: with the whole suite running on two cores, a registration's argon2id hash
            // on the daemon's nice-10 threads can get little CPU (CI once saw 25 acknowledged in 20 s).
            let deadline = ContinuousClock.now + .seconds(120)
            while shared.acknowledged.withLock({ $0.count }) < target && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            daemon.signal(SIGKILL)
            _ = try await daemon.waitForExit()
            shared.stop.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        let written = shared.acknowledged.withLock { $0 }
        #expect(written.count >= target, "writes did not flow: \(written.count) acknowledged before the deadline")

        try await daemon.startAndWait()
        var missing: [String] = []
        for email in written {
            let status = try await HTTPTestClient.request(
                "GET", "/api/v1/auth/verification-status?email=\(email)", to: endpoint)
            if status.status != 200 { missing.append(email) }
        }
        #expect(missing.isEmpty, "lost \(missing.count) of \(written.count) acknowledged registrations")
        let check = try await PorteroProcess.run(["check", "--data-dir", daemon.dataDirectory])
        // The daemon holds the lock and is idle; a plain check still reads every line and finds nothing wrong.
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(!check.stdout.contains("problem:"), "\(check.stdout)")
        await daemon.cleanUp()
    }
}

/// What the writers share: the registrations the daemon acknowledged, and when to stop.
final class WriterLedger: Sendable {
    let acknowledged = Mutex<[String]>([])
    let stop = Atomic<Bool>(false)
}
