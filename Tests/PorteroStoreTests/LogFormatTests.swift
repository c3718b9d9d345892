import PorteroFormat
import Foundation
import Testing

import PorteroCore
@testable import PorteroStore

/// The checksum every line carries, computed the obvious way: bit by bit.
func crc32c(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
    }
    return crc ^ 0xFFFF_FFFF
}

@Suite struct LogFormatTests {
    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(String(decoding: CRC32C.hex(0xE306_9283), as: UTF8.self) == "e3069283")
    }

    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 1000, 4099])
    func crc32cMatchesTheBitwiseDefinition(length: Int) {
        var generator = SplitMix64(seed: UInt64(length))
        let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        #expect(CRC32C.checksum(bytes) == crc32c(bytes))
    }

    @Test(arguments: [
        "1970-01-01T00:00:00.000Z", "2026-11-23T15:30:00.123Z", "2000-02-29T23:59:59.999Z",
        "1969-12-31T23:59:59.999Z", "2100-03-01T00:00:00.001Z", "0001-01-01T00:00:00.000Z",
    ])
    func timestampsRoundTrip(text: String) throws {
        let stamp = try #require(UTCTimestamp(parsing: text))
        #expect(stamp.string == text)
        #expect(UTCTimestamp(stamp.date) == stamp)
    }

    @Test func timestampsMatchFoundation() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let milliseconds = Int64(generator.next() % 8_000_000_000_000) - 1_000_000_000_000
            let stamp = UTCTimestamp(milliseconds: milliseconds)
            #expect(formatter.date(from: stamp.string) == stamp.date, "\(milliseconds)")
            #expect(UTCTimestamp(stamp.date) == stamp)
        }
        #expect(UTCTimestamp(parsing: "2026-02-30T00:00:00.000Z") == nil)
        #expect(UTCTimestamp(parsing: "2026-11-23T15:30:00Z")?.string == "2026-11-23T15:30:00.000Z")
        #expect(UTCTimestamp(parsing: "2026-11-23 15:30:00.000Z") == nil)
    }

    @Test(arguments: [
        (#"{}"#, true), (#"{"a":[1,2.5e-3,-0,true,false,null,"\u00e9\n"]}"#, true), (#"{"a":{"b":{}}}"#, true),
        (#"{"a":01}"#, false), (#"{"a":1,}"#, false), (#"{"a" 1}"#, false), (#"[1]"#, false), (#"{"a":"x}"#, false),
        (#"{"a":1} "#, false), ("{\"a\":\"\u{1}\"}", false), (#"{"a":tru}"#, false), (#"{"a":"\x"}"#, false),
    ])
    func jsonValidation(text: String, valid: Bool) {
        let bytes = Array(text.utf8)
        #expect(JSONScanner.isSingleObject(bytes, range: 0..<bytes.count) == valid)
    }

    @Test func deepNestingIsRejectedNotACrash() {
        let bytes = Array(("{\"a\":" + String(repeating: "[", count: 100_000)).utf8)
        #expect(JSONScanner.isSingleObject(bytes, range: 0..<bytes.count) == false)
    }

    @Test func lineRoundTrip() throws {
        var bytes: [UInt8] = []
        let at = UTCTimestamp(milliseconds: 1_795_000_000_123)
        LogFormat.appendLine(
            seq: 42,
            at: at.bytes,
            quotedType: LogFormat.quoted("user.re\"gistered"),
            data: Array(#"{"x":1}"#.utf8),
            to: &bytes
        )
        #expect(bytes.last == 0x0A)
        let line = try LogFormat.parseLine(bytes, 0..<(bytes.count - 1)).get()
        #expect(line.seq == 42)
        #expect(line.at == at)
        #expect(line.type == "user.re\"gistered")
        #expect(Array(bytes[line.data]) == Array(#"{"x":1}"#.utf8))
    }
}

/// A small deterministic generator for test data.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
