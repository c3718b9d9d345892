import Foundation
import PorteroCore
@testable import PorteroServer
import PorteroTestSupport
import Testing

/// The key set on disk (`<data_dir>/keys/signing-<kid>.json`): rotation, expiry, algorithm switches, damaged files,
/// and what `portero keys rotate` refuses.
@Suite("Signing key files")
struct SigningKeyFilesTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let hour: Duration = .seconds(3600)

    static func update(
        _ directory: TestDirectory, _ algorithm: SigningKey.Algorithm, at offset: TimeInterval, rotate: Bool = false
    )
        throws -> SigningKeyFiles.Update
    {
        try SigningKeyFiles.update(
            directory: directory.path, algorithm: algorithm, retention: hour, now: t0.addingTimeInterval(offset),
            rotate: rotate)
    }

    static func configuration(
        _ dataDirectory: String, _ flags: [String: String] = [:], environment: [String: String] = [:]
    )
        async throws -> PorteroConfiguration
    {
        try await ConfigurationLoader(
            file: .defaultPath("/nonexistent/portero.yaml"),
            environment: environment.merging(["HOME": "/home/test"]) { $1 },
            flags: flags.merging(["data_dir": dataDirectory]) { $1 },
            hostname: "box"
        ).load()
    }

    @Test("a first key is made once; a rotation adds a newer one; the older is deleted once its tokens are gone")
    func rotateAndExpire() throws {
        let directory = try TestDirectory("keyfiles")
        defer { directory.remove() }
        let first = try Self.update(directory, .eddsa, at: 0)
        let firstKey = try #require(first.created)
        #expect(directory.names() == ["signing-\(firstKey.kid).json"])
        let path = directory.file("signing-\(firstKey.kid).json")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(#"{"alg":"EdDSA","created_at":"2027-01-15T08:00:00.000Z","key":""#), "\(text)")

        // Loading again changes nothing.
        let again = try Self.update(directory, .eddsa, at: 10)
        #expect(again.created == nil && again.ring.live.map(\.kid) == [firstKey.kid])

        let rotated = try Self.update(directory, .eddsa, at: 100, rotate: true)
        let secondKey = try #require(rotated.created)
        #expect(rotated.ring.live.map(\.kid) == [secondKey.kid, firstKey.kid])
        #expect(directory.names().count == 2)

        // 100 s (the rotation) + 3600 s (the retention): the first key's tokens have all expired.
        let kept = try Self.update(directory, .eddsa, at: 3699)
        #expect(kept.removed.isEmpty && kept.ring.live.count == 2)
        let pruned = try Self.update(directory, .eddsa, at: 3700)
        #expect(pruned.removed.map(\.kid) == [firstKey.kid])
        #expect(pruned.ring.live.map(\.kid) == [secondKey.kid])
        #expect(directory.names() == ["signing-\(secondKey.kid).json"])
    }

    @Test(
        "switching jwt.algorithm makes a key of the new one; the old key keeps verifying; a legacy jwt-secret is read")
    func switchAndLegacy() async throws {
        let directory = try TestDirectory("keyfiles")
        defer { directory.remove() }
        let secret = "a-legacy-generated-secret-0123456789abcdef"
        try directory.write("jwt-secret", secret + "\n", permissions: 0o600)
        try FileManager.default.setAttributes([.modificationDate: Self.t0], ofItemAtPath: directory.file("jwt-secret"))
        let legacy = try #require(await SigningKeys.hs256(secret: Array(secret.utf8)))

        let hs = try Self.update(directory, .hs256, at: 10)
        #expect(hs.created == nil)
        #expect(hs.ring.current.kid == legacy.currentKID)

        let switched = try Self.update(directory, .eddsa, at: 20)
        let edKey = try #require(switched.created)
        #expect(switched.ring.live.map(\.kid) == [edKey.kid, legacy.currentKID])
        let service = await SigningKeys.make(switched.ring)
        #expect(service.algorithms == [edKey.kid: .eddsa, legacy.currentKID: .hs256])

        let expired = try Self.update(directory, .eddsa, at: 20 + 3600)
        #expect(expired.removed.map(\.kid) == [legacy.currentKID])
        #expect(!directory.names().contains("jwt-secret"))
    }

    @Test("a damaged key file, or one whose name is not its kid, stops the load naming the file")
    func damagedFiles() throws {
        let directory = try TestDirectory("keyfiles")
        defer { directory.remove() }
        let key = try #require(try Self.update(directory, .eddsa, at: 0).created)
        let path = directory.file("signing-\(key.kid).json")
        let good = try String(contentsOfFile: path, encoding: .utf8)

        try FileManager.default.moveItem(atPath: path, toPath: directory.file("signing-other.json"))
        #expect(throws: DaemonError.self) { try Self.update(directory, .eddsa, at: 1) }
        try FileManager.default.removeItem(atPath: directory.file("signing-other.json"))

        for damaged in [
            String(good.dropLast(10)), good.replacingOccurrences(of: "EdDSA", with: "HS256"),
            good.replacingOccurrences(of: #""kid":""#, with: #""kid":"x"#), "",
        ] {
            try directory.write("signing-\(key.kid).json", damaged, permissions: 0o600)
            do {
                _ = try Self.update(directory, .eddsa, at: 1)
                Issue.record("accepted \(damaged)")
            } catch let error as DaemonError {
                #expect(error.description.contains(path), "\(error)")
                #expect(!error.description.contains(Secrets.base64URL(key.secret)))
            }
        }
    }

    @Test("keys rotate refuses an HS256 secret Portero does not own, in one line")
    func refusals() async throws {
        let directory = try TestDirectory("keyfiles")
        defer { directory.remove() }
        let data = directory.file("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let owned = try await Self.configuration(
            data, environment: ["PORTERO_JWT_SECRET": String(repeating: "s", count: 40)])
        #expect(throws: KeyRotation.Refusal.self) { try KeyRotation.rotate(configuration: owned, environment: [:]) }

        let credentials = try TestDirectory("creds")
        defer { credentials.remove() }
        try credentials.write("jwt-secret", String(repeating: "c", count: 40), permissions: 0o600)
        let plain = try await Self.configuration(data)
        #expect(throws: KeyRotation.Refusal.self) {
            try KeyRotation.rotate(configuration: plain, environment: ["CREDENTIALS_DIRECTORY": credentials.path])
        }
        // No key made yet under HS256: nothing of Portero's to rotate.
        do {
            _ = try KeyRotation.rotate(configuration: plain, environment: [:])
            Issue.record("rotated with no key")
        } catch let refusal as KeyRotation.Refusal {
            #expect(!refusal.description.contains("\n") && refusal.description.contains("PORTERO_JWT_SECRET"))
        }
        // EdDSA keys are always Portero's: the first rotation makes the first key.
        let eddsa = try await Self.configuration(data, ["jwt.algorithm": "EdDSA"])
        let outcome = try KeyRotation.rotate(configuration: eddsa, environment: [:])
        #expect(outcome.algorithm == "EdDSA" && outcome.verifying.isEmpty)
    }

    @Test("the daemon is found by the flock on its LOCK file, and only while it holds it")
    func lockHolder() throws {
        let directory = try TestDirectory("lock")
        defer { directory.remove() }
        let path = try directory.write("LOCK", "")
        #expect(KeyRotation.lockHolder(path: path) == nil)
        let fd = open(path, O_RDWR | O_CLOEXEC)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        #expect(KeyRotation.lockHolder(path: path) == getpid())
        close(fd)
        #expect(KeyRotation.lockHolder(path: path) == nil)
        #expect(KeyRotation.notifyDaemon(dataDirectory: directory.path) == .notRunning)
    }
}
