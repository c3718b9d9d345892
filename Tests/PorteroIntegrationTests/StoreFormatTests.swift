import Foundation
import PorteroTestSupport
import Testing

/// The store's format version and its upgrade path: `Tests/Fixtures/store-format-1/` is a data directory written by
/// the format-1 Portero and kept unchanged (docs/data-directory.md, "Format versions and upgrades"). The current
/// binary must open a copy of it as it was: healthy to `portero check`, its users logging in with their passwords,
/// its signing key still the one that signs. A future format adds a fixture beside it; none is regenerated.
@Suite("Store format fixtures", .serialized)
struct StoreFormatTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// What the format-1 fixture holds (its README says how it was made).
    enum FormatOne {
        static let verified = (email: "ada@example.org", password: "format one fixture Ada")
        static let unverified = (email: "brook@example.org", password: "format one fixture Brook")
        /// Changed its password after registering: the second hash is the one that counts.
        static let changed = (email: "cyd@example.org", password: "format one fixture Cyd, second")
        static let oldPassword = "format one fixture Cyd, first"
    }

    /// Copies a fixture into `directory/data` with the modes a data directory has (git keeps only 0644/0755).
    static func copyFixture(_ name: String, into directory: TestDirectory) throws -> String {
        let source = fixtures + "/" + name
        let data = directory.file("data")
        try FileManager.default.copyItem(atPath: source, toPath: data)
        try? FileManager.default.removeItem(atPath: data + "/README.md")
        let enumerator = FileManager.default.enumerator(atPath: data)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: data + "/" + relative, isDirectory: &isDirectory)
            chmod(data + "/" + relative, isDirectory.boolValue ? 0o700 : 0o600)
        }
        chmod(data, 0o700)
        return data
    }

    /// The kid of the fixture's one signing key, from its file name `keys/signing-<kid>.json`.
    static func fixtureKid(_ name: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures + "/" + name + "/keys")
        let file = try #require(names.first { $0.hasPrefix("signing-") && $0.hasSuffix(".json") })
        return String(file.dropFirst("signing-".count).dropLast(".json".count))
    }

    /// The `kid` in a JWT's header.
    static func kid(of token: String) throws -> String? {
        var header = String(try #require(token.split(separator: ".").first))
        header = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        header += String(repeating: "=", count: (4 - header.count % 4) % 4)
        let data = try #require(Data(base64Encoded: header))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["kid"] as? String
    }

    @Test("the format-1 fixture has a snapshot, records after it, and format 1 in every header")
    func fixtureShape() throws {
        let directory = Self.fixtures + "/store-format-1"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        let snapshots = names.filter { $0.hasPrefix("snapshot-") }
        let segments = names.filter { $0.hasPrefix("log-") }
        #expect(snapshots.count == 1)
        #expect(!segments.isEmpty)
        for name in snapshots {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            #expect(text.hasPrefix(#"{"format":1,"#))
        }
        for name in segments {
            let first = try String(contentsOfFile: directory + "/" + name, encoding: .utf8).split(separator: "\n")[0]
            #expect(first.contains(#""type":"store.segment","data":{"format":1}"#))
        }
        let records = try segments.flatMap {
            try String(contentsOfFile: directory + "/" + $0, encoding: .utf8).split(separator: "\n")
        }
        // Records written after the snapshot, so that opening it replays the log too.
        #expect(records.contains { $0.contains(#""type":"user.logged_in""#) })
    }

    @Test("the current binary opens a format-1 data directory: check is healthy, users log in, the key signs")
    func formatOneOpens() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let data = try Self.copyFixture("store-format-1", into: directory)
        let kid = try Self.fixtureKid("store-format-1")

        let check = try await PorteroProcess.run(["check", "--data-dir", data])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")

        let daemon = try PorteroProcess(directory: directory, arguments: ["--jwt-algorithm", "EdDSA"])
        try await daemon.startAndWait()
        let endpoint = try daemon.tcp
        func login(_ email: String, _ password: String) async throws -> TestResponse {
            try await HTTPTestClient.request(
                "POST", "/api/v1/auth/login", to: endpoint, json: ["email": email, "password": password])
        }
        let ada = try await login(FormatOne.verified.email, FormatOne.verified.password)
        #expect(ada.status == 200, "\(ada.text)")
        let access = try #require(ada.json?["access_token"] as? String)
        #expect(try Self.kid(of: access) == kid)
        let profile = try await HTTPTestClient.request(
            "GET", "/api/v1/auth/profile", to: endpoint, headers: ["Authorization": "Bearer \(access)"])
        #expect(profile.status == 200)
        #expect(profile.text.contains("\"name\":\"Ada\""), "\(profile.text)")

        let brook = try await login(FormatOne.unverified.email, FormatOne.unverified.password)
        #expect(brook.status == 403, "\(brook.text)")
        #expect(brook.text.contains("account_not_verified"))

        let cyd = try await login(FormatOne.changed.email, FormatOne.changed.password)
        #expect(cyd.status == 200, "\(cyd.text)")
        let old = try await login(FormatOne.changed.email, FormatOne.oldPassword)
        #expect(old.status == 401)

        let jwks = try await HTTPTestClient.request("GET", "/.well-known/jwks.json", to: endpoint)
        #expect(jwks.text.contains("\"kid\":\"\(kid)\""), "\(jwks.text)")
        await daemon.stop()

        // What it wrote on top is format 1 too, and the directory is still healthy.
        let after = try await PorteroProcess.run(["check", "--data-dir", data])
        #expect(after.status == 0, "\(after.stdout) \(after.stderr)")
        let version = try await PorteroProcess.run(["version"])
        #expect(version.stdout.contains("store format 1"))
    }
}
