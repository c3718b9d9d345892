import PorteroFormat
import Foundation
import PorteroTestSupport
import Testing

import PorteroCore
@testable import PorteroStore

/// Snapshot files as the store writes and reads them: streamed in pieces into exactly the file the old one-piece
/// writer made, and read the fast way only when that gives what the long way (LogFormat + JSONDecoder) gives.
@Suite struct SnapshotCodecTests {
    static let at = UTCTimestamp(milliseconds: 1_795_000_000_123)

    /// A state with accounts, codes, sessions and mail; `count` accounts.
    static func authState(users count: Int) -> AuthState {
        var state = AuthState()
        let base = Date(timeIntervalSince1970: 1_795_000_000)
        for index in 0..<count {
            var user = User(
                id: UUID(), email: try! Email(validating: "user\(index)@example.com"), name: "User \"\(index)\"",
                phone: nil, passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", createdAt: base)
            user.lastLoginAt = base.addingTimeInterval(Double(index) / 7)
            state.apply(.userRegistered(user), seq: UInt64(index), at: base)
            if index % 3 == 0 {
                state.apply(
                    .codeIssued(
                        OneTimeCode(
                            userID: user.id, purpose: .verifyEmail, digest: "d\(index)", issuedAt: base,
                            expiresAt: base.addingTimeInterval(900))),
                    seq: UInt64(index), at: base)
                state.apply(
                    .mailQueued(
                        OutboxMail(
                            id: UUID(), to: user.email, subject: "Code", text: "123456 / ünïcode", kind: "verify_email",
                            code: "123456", userID: user.id, queuedAt: base)),
                    seq: UInt64(index), at: base)
            }
        }
        return state
    }

    @Test("the streamed file is byte for byte the one the one-piece writer made, for AuthState and a Codable state")
    func streamedFileIsTheOldFile() throws {
        let directory = try TestDirectory("snapshot-stream")
        defer { directory.remove() }
        let store = StoreDirectory(path: directory.path)
        let auth = Self.authState(users: 300)
        let size = try SnapshotCodec.write(auth, seq: 41, at: Self.at, in: store, threshold: 512)
        let written = try readBytes(store.snapshotPath(seq: 41))
        let old = LogFormat.snapshotFile(seq: 41, at: Self.at, state: try SnapshotJSON.encode(auth))
        #expect(written == old)
        #expect(size == old.count)

        var keyValue = KeyValueState()
        keyValue.apply(.put(key: "k", value: "v \"/\\"), seq: 1, at: Date(timeIntervalSince1970: 1.5))
        _ = try SnapshotCodec.write(keyValue, seq: 42, at: Self.at, in: store, threshold: 8)
        #expect(
            try readBytes(store.snapshotPath(seq: 42))
                == LogFormat.snapshotFile(seq: 42, at: Self.at, state: try SnapshotJSON.encode(keyValue)))
        #expect(!FileManager.default.fileExists(atPath: store.snapshotPath(seq: 42) + ".tmp"))
    }

    @Test("a file the old writer wrote loads, whether the fast way or (another layout, an unknown member) the long way")
    func oldFilesLoad() throws {
        let directory = try TestDirectory("snapshot-load")
        defer { directory.remove() }
        let state = Self.authState(users: 50)
        let json = try SnapshotJSON.encode(state)
        var text = String(decoding: json, as: UTF8.self)
        text.removeLast()
        let variants: [(String, [UInt8])] = [
            ("as written", LogFormat.snapshotFile(seq: 7, at: Self.at, state: json)),
            ("white space around the state", Self.spaced(LogFormat.snapshotFile(seq: 7, at: Self.at, state: json))),
            (
                "an unknown member",
                LogFormat.snapshotFile(seq: 7, at: Self.at, state: Array((text + #","newer":{"x":[1,2]}}"#).utf8))
            ),
        ]
        for (label, file) in variants {
            let path = directory.file("snapshot-7.json")
            try writeBytes(file, to: path)
            guard case .valid(let loaded, let seq) = SnapshotCodec.load(AuthState.self, path: path, seq: 7) else {
                Issue.record("\(label): not loaded")
                continue
            }
            #expect(loaded == state, "\(label)")
            #expect(seq == 7)
        }
    }

    @Test("damaged files get the verdicts they always got")
    func damagedFiles() throws {
        let directory = try TestDirectory("snapshot-damage")
        defer { directory.remove() }
        let json = try SnapshotJSON.encode(Self.authState(users: 20))
        let good = LogFormat.snapshotFile(seq: 9, at: Self.at, state: json)
        // A bit flipped inside a string (a password hash's "$argon2id"): still JSON, so only the checksum sees it.
        var flipped = good
        let hash = try #require(good[(good.count / 2)...].firstRange(of: Array("$argon2id".utf8)))
        flipped[hash.lowerBound + 1] ^= 0x02
        var badState = json
        badState[badState.count - 2] = UInt8(ascii: "[")
        let cases: [(String, [UInt8], String)] = [
            ("flipped bit", flipped, "checksum mismatch"),
            ("truncated", Array(good.dropLast(40)), "incomplete file (no newline at the end)"),
            ("empty", [], "incomplete file (no newline at the end)"),
            (
                "wrong seq", LogFormat.snapshotFile(seq: 8, at: Self.at, state: json),
                "the file says seq 8 but its name says 9"
            ),
            ("not JSON inside", LogFormat.snapshotFile(seq: 9, at: Self.at, state: badState), Self.scanVerdict),
            (
                "a state that does not decode",
                LogFormat.snapshotFile(seq: 9, at: Self.at, state: Array(#"{"users":[]}"#.utf8)),
                "the state does not decode (written by another version, or damaged)"
            ),
        ]
        let path = directory.file("snapshot-9.json")
        for (label, file, reason) in cases {
            try writeBytes(file, to: path)
            guard case .invalid(let got) = SnapshotCodec.load(AuthState.self, path: path, seq: 9) else {
                Issue.record("\(label): not refused")
                continue
            }
            if reason == Self.scanVerdict {
                guard case .failure(let error) = LogFormat.parseSnapshot(file) else {
                    Issue.record("\(label): the envelope parses")
                    continue
                }
                #expect(got == error.reason, "\(label)")
            } else {
                #expect(got == reason, "\(label)")
            }
        }
        try writeBytes(LogFormat.snapshotFile(format: 2, seq: 9, at: Self.at, state: json), to: path)
        guard case .unsupported(let format) = SnapshotCodec.load(AuthState.self, path: path, seq: 9) else {
            Issue.record("format 2 not refused as unsupported")
            return
        }
        #expect(format == 2)
    }

    /// Stands for "the reason `LogFormat.parseSnapshot` gives".
    static let scanVerdict = "<the scanner's reason>"

    /// The file with a space after each top-level `:` and `,` of the envelope (still valid; no longer the layout
    /// the fast path reads).
    static func spaced(_ file: [UInt8]) -> [UInt8] {
        var text = String(decoding: file, as: UTF8.self)
        text = text.replacingOccurrences(of: #"{"format":1,"seq":"#, with: #"{ "format": 1, "seq": "#)
        // The checksum covers the bytes before ,"crc": compute it again for the new bytes.
        let end = text.range(of: #","crc":""#, options: .backwards)!.lowerBound
        let body = Array(text[..<end].utf8)
        return body + LogFormat.checksumSuffix(CRC32C.checksum(body))
    }
}
