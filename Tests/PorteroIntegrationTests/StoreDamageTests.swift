import Foundation
import PorteroTestSupport
import Testing

/// Damage in a real data directory: a torn tail is cut at start-up with a warning; damage elsewhere refuses
/// start-up naming file and line; `portero check [--repair]` reports the same.
@Suite("Store damage", .serialized)
struct StoreDamageTests {
    /// A stopped daemon's data directory holding a few users, and its last segment.
    func populated() async throws -> (PorteroProcess, String) {
        let daemon = try PorteroProcess(arguments: ["--rate-register", "0"])
        try await daemon.startAndWait()
        for index in 0..<4 {
            let answer = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/register", to: try daemon.tcp,
                json: ["email": "damage\(index)@example.com", "password": "intact record \(index)"])
            #expect(answer.status == 201)
        }
        daemon.signal(SIGKILL)  // no final snapshot: the records stay in the segment
        try await daemon.waitForExit()
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory)
                .filter { $0.hasPrefix("log-") && $0.hasSuffix(".jsonl") }.sorted().last)
        return (daemon, daemon.dataDirectory + "/" + segment)
    }

    @Test("a torn last record is cut with a warning and the rest is served")
    func tornTail() async throws {
        let (daemon, segment) = try await populated()
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: segment)))
        bytes.removeLast(7)
        try Data(bytes).write(to: URL(fileURLWithPath: segment))

        let check = try await PorteroProcess.run(["check", "--data-dir", daemon.dataDirectory])
        #expect(check.status == 1, "\(check.stdout)")
        #expect(check.stdout.contains(segment))

        try await daemon.startAndWait()
        #expect(daemon.stderrText.contains("warning"))
        let first = try await HTTPTestClient.request(
            "GET", "/api/v1/auth/verification-status?email=damage0@example.com", to: try daemon.tcp)
        #expect(first.status == 200)
        await daemon.cleanUp()
    }

    @Test("a flipped bit in an earlier record refuses start-up, naming file and line; check agrees")
    func bitRot() async throws {
        let (daemon, segment) = try await populated()
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: segment)))
        let lineStarts = [0] + bytes.indices.filter { bytes[$0] == 0x0A }.map { $0 + 1 }.dropLast()
        #expect(lineStarts.count >= 6)
        let target = lineStarts[2] + 20  // inside the third line, far from the last record
        bytes[target] ^= 0x04
        try Data(bytes).write(to: URL(fileURLWithPath: segment))

        daemon.arguments = []
        try daemon.start()
        let status = try await daemon.waitForExit()
        #expect(status != 0)
        #expect(daemon.stderrText.contains(segment))
        #expect(daemon.stderrText.contains("line 3"))
        #expect(daemon.stderrText.contains("portero check"))

        let check = try await PorteroProcess.run(["check", "--data-dir", daemon.dataDirectory])
        #expect(check.status == 2)
        #expect(check.stdout.contains(segment) && check.stdout.contains("line 3"))
        let repair = try await PorteroProcess.run(["check", "--repair", "--data-dir", daemon.dataDirectory])
        #expect(repair.status == 2, "mid-log damage is never repaired")
        daemon.directory.remove()
    }

    @Test("a flipped bit in the complete last record refuses start-up: it was synced, so it is rot, not a torn write")
    func bitRotInTheLastRecord() async throws {
        let (daemon, segment) = try await populated()
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: segment)))
        let lineStarts = [0] + bytes.indices.filter { bytes[$0] == 0x0A }.map { $0 + 1 }.dropLast()
        let last = try #require(lineStarts.last)
        bytes[last + 10] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: segment))

        daemon.arguments = []
        try daemon.start()
        #expect(try await daemon.waitForExit() != 0)
        let place = "\(segment) line \(lineStarts.count) (byte offset \(last))"
        #expect(daemon.stderrText.contains(place), "\(daemon.stderrText)")
        let check = try await PorteroProcess.run(["check", "--repair", "--data-dir", daemon.dataDirectory])
        #expect(check.status == 2 && check.stdout.contains(place), "\(check.stdout)")
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: segment))) == bytes, "nothing cut")
        daemon.directory.remove()
    }

    @Test("check --repair cuts a torn tail after keeping a .broken copy")
    func repair() async throws {
        let (daemon, segment) = try await populated()
        let original = try Data(contentsOf: URL(fileURLWithPath: segment))
        try (original + Data("{\"seq\":99,\"at\":".utf8)).write(to: URL(fileURLWithPath: segment))
        let repaired = try await PorteroProcess.run(["check", "--repair", "--data-dir", daemon.dataDirectory])
        #expect(repaired.status == 0, "\(repaired.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: segment)) == original)
        #expect(FileManager.default.fileExists(atPath: segment + ".broken"))
        let clean = try await PorteroProcess.run(["check", "--data-dir", daemon.dataDirectory])
        #expect(clean.status == 0)
        daemon.directory.remove()
    }
}
