import Foundation
import PorteroFormat
import PorteroTestSupport
import Testing

/// The ustar archives `POST /admin/v1/backup` answers and `portero backup` unpacks, against GNU tar.
@Suite("Tar archives")
struct TarArchiveTests {
    @Test("our ustar archives are read by GNU tar, and GNU tar's by us")
    func tarBothWays() async throws {
        let directory = try TestDirectory("tar")
        defer { directory.remove() }
        let snapshot = Array((0..<1500).map { UInt8($0 % 251) })
        let archive = TarArchive.archive(
            [
                .init(path: "snapshot-0000000000000042.json", mode: 0o600, contents: snapshot),
                .init(path: "keys/code-hmac", mode: 0o600, contents: Array("secret\n".utf8)),
                .init(path: "keys/empty", mode: 0o640, contents: []),
            ], mtime: 1_767_225_600)
        #expect(archive.count % 512 == 0)
        try Data(archive).write(to: URL(fileURLWithPath: directory.file("ours.tar")))
        let listed = try await PorteroProcess.runProgram(
            "/usr/bin/tar", ["-tvf", directory.file("ours.tar")], environment: [:])
        #expect(listed.status == 0, "\(listed)")
        #expect(
            listed.stdout.contains("-rw------- root/root      1500 2026-01-01 00:00 snapshot-0000000000000042.json"))
        #expect(listed.stdout.contains("keys/code-hmac") && listed.stdout.contains("-rw-r----- root/root"))
        try FileManager.default.createDirectory(atPath: directory.file("out"), withIntermediateDirectories: false)
        let extracted = try await PorteroProcess.runProgram(
            "/usr/bin/tar", ["-xf", directory.file("ours.tar"), "-C", directory.file("out")], environment: [:])
        #expect(extracted.status == 0, "\(extracted)")
        #expect(
            FileManager.default.contents(atPath: directory.file("out/snapshot-0000000000000042.json")) == Data(snapshot)
        )

        // GNU tar's ustar archive of the extracted tree reads back to the same files.
        let made = try await PorteroProcess.runProgram(
            "/usr/bin/tar",
            [
                "--format=ustar", "-cf", directory.file("theirs.tar"), "-C", directory.file("out"),
                "snapshot-0000000000000042.json", "keys",
            ], environment: [:])
        #expect(made.status == 0, "\(made)")
        let entries = try TarArchive.entries(
            of: Array(try Data(contentsOf: URL(fileURLWithPath: directory.file("theirs.tar")))))
        #expect(entries.first { $0.path == "snapshot-0000000000000042.json" }?.contents == snapshot)
        #expect(entries.first { $0.path == "keys" }?.kind == .directory)
        #expect(entries.first { $0.path == "keys/code-hmac" }?.contents == Array("secret\n".utf8))

        // Hostile archives: a path out of the directory, a bad checksum, a cut-off member, a link.
        var escaping = TarArchive.archive([.init(path: "../etc/passwd", mode: 0o600, contents: [1])])
        #expect(throws: TarArchive.FormatError.self) { try TarArchive.entries(of: escaping) }
        escaping = TarArchive.archive([.init(path: "/etc/passwd", mode: 0o600, contents: [1])])
        #expect(throws: TarArchive.FormatError.self) { try TarArchive.entries(of: escaping) }
        var corrupt = archive
        corrupt[10] ^= 1
        #expect(throws: TarArchive.FormatError.self) { try TarArchive.entries(of: corrupt) }
        #expect(throws: TarArchive.FormatError.self) { try TarArchive.entries(of: Array(archive.prefix(1024))) }
        var link = TarArchive.archive([.init(path: "keys/x", mode: 0o600, contents: [])])
        link[156] = UInt8(ascii: "2")
        let sum = link[0..<512].enumerated().reduce(0) { $0 + ((148..<156).contains($1.offset) ? 32 : Int($1.element)) }
        link.replaceSubrange(148..<156, with: Array(String(sum, radix: 8).leftPadded(to: 6).utf8) + [0, 32])
        #expect(throws: TarArchive.FormatError.self) { try TarArchive.entries(of: link) }
    }
}
