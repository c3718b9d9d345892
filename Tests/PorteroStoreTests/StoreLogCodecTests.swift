import Foundation
import PorteroCore
import PorteroFormat
@testable import PorteroStore
import Testing

/// `StoreLogCodec` (what bench/micro measures) is the store's own line codec: same checksum, same lines, and a line
/// read back is the record written.
@Suite struct StoreLogCodecTests {
    @Test(arguments: [0, 9, 64, 569, 65_536])
    func crc32cIsTheLogsChecksum(length: Int) {
        var generator = SplitMix64(seed: UInt64(length) + 1)
        let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        #expect(bytes.withUnsafeBytes { StoreLogCodec.crc32c($0) } == crc32c(bytes))
        #expect(Array("123456789".utf8).withUnsafeBytes { StoreLogCodec.crc32c($0) } == 0xE306_9283)
    }

    @Test func linesReadBackAsTheRecordsWritten() throws {
        let at = Date(timeIntervalSince1970: 1_796_000_000.123)
        var user = User(
            id: UUID(), email: try Email(validating: "ada@example.org"), name: "Ada", phone: nil,
            passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + String(repeating: "h", count: 43),
            createdAt: at)
        user.locale = "en"
        let rotation = AuthRecord.sessionRotated(
            .init(
                sessionID: UUID(), newTokenDigest: String(repeating: "ab", count: 32), at: at,
                expiresAt: at.addingTimeInterval(86_400)))
        var out: [UInt8] = []
        try StoreLogCodec.appendLines([.userRegistered(user), rotation], firstSeq: 41, at: at, to: &out)
        let lines = LogFormat.splitLines(out)
        #expect(lines.count == 2 && lines.allSatisfy(\.complete))

        let first = try StoreLogCodec.readLine(out, lines[0].range, as: AuthRecord.self)
        #expect(first.seq == 41 && first.record == .userRegistered(user))
        #expect(UTCTimestamp(first.at) == UTCTimestamp(at))
        let second = try StoreLogCodec.readLine(out, lines[1].range, as: AuthRecord.self)
        #expect(second.seq == 42 && second.record == rotation)
    }

    @Test func aDamagedLineIsRefused() throws {
        let at = Date(timeIntervalSince1970: 1_796_000_000)
        let record = AuthRecord.sessionRevoked(.init(sessionID: UUID(), reason: "logout"))
        var out: [UInt8] = []
        try StoreLogCodec.appendLines([record], firstSeq: 1, at: at, to: &out)
        let range = 0..<(out.count - 1)
        let reason = try #require(out.firstRange(of: Array("logout".utf8)))
        out[reason.lowerBound] = UInt8(ascii: "L")
        #expect {
            try StoreLogCodec.readLine(out, range, as: AuthRecord.self)
        } throws: { error in
            (error as? StoreError)?.code == .damaged
        }
    }
}
