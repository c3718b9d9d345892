import PorteroFormat
import PorteroCore
/// The on-disk formats: log lines and snapshot files, both one JSON object ending in a CRC-32C of what precedes
/// `,"crc"`.
///
/// ```
/// {"seq":N,"at":"2026-11-23T15:30:00.123Z","type":"user.registered","data":{…},"crc":"1a2b3c4d"}\n
/// {"format":1,"seq":N,"at":"…","state":{…},"crc":"…"}\n
/// ```
enum LogFormat {
    /// The format number of segments (in their `store.segment` record) and of snapshot files.
    static let version: UInt64 = 1

    /// The engine record that opens every segment.
    static let segmentType = "store.segment"

    /// The prefix of record types reserved for the engine.
    static let reservedPrefix = "store."

    /// A log line that parsed and passed its checksum.
    struct Line {
        let seq: UInt64
        let at: UTCTimestamp
        let type: String
        /// The bytes of `data` within the buffer the line was parsed from.
        let data: Range<Int>
    }

    /// The parts of a snapshot file that parsed and passed its checksum.
    struct SnapshotHeader {
        let format: UInt64
        let seq: UInt64
        let at: UTCTimestamp
        /// The bytes of `state` within the file.
        let state: Range<Int>
    }

    // MARK: Writing

    /// Appends one complete line (with its newline) for a record whose `data` is already validated.
    static func appendLine(
        seq: UInt64,
        at: [UInt8],
        quotedType: [UInt8],
        data: [UInt8],
        to out: inout [UInt8]
    ) {
        let start = out.count
        out.append(contentsOf: #"{"seq":"#.utf8)
        appendDecimal(seq, to: &out)
        out.append(contentsOf: #","at":""#.utf8)
        out.append(contentsOf: at)
        out.append(contentsOf: #"","type":"#.utf8)
        out.append(contentsOf: quotedType)
        out.append(contentsOf: #","data":"#.utf8)
        out.append(contentsOf: data)
        appendChecksum(of: start, to: &out)
    }

    /// The line of the `store.segment` record that opens a segment.
    static func segmentLine(seq: UInt64, at: UTCTimestamp) -> [UInt8] {
        var out: [UInt8] = []
        appendLine(
            seq: seq,
            at: at.bytes,
            quotedType: quoted(segmentType),
            data: Array(#"{"format":\#(version)}"#.utf8),
            to: &out
        )
        return out
    }

    /// A whole snapshot file around the state's JSON.
    static func snapshotFile(format: UInt64 = version, seq: UInt64, at: UTCTimestamp, state: [UInt8]) -> [UInt8] {
        var out = snapshotPrefix(format: format, seq: seq, at: at)
        out.reserveCapacity(state.count + 96)
        out.append(contentsOf: state)
        appendChecksum(of: 0, to: &out)
        return out
    }

    /// What a snapshot file holds before its state: `{"format":1,"seq":N,"at":"…","state":`.
    static func snapshotPrefix(format: UInt64 = version, seq: UInt64, at: UTCTimestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"format":"#.utf8)
        appendDecimal(format, to: &out)
        out.append(contentsOf: #","seq":"#.utf8)
        appendDecimal(seq, to: &out)
        out.append(contentsOf: #","at":""#.utf8)
        out.append(contentsOf: at.bytes)
        out.append(contentsOf: #"","state":"#.utf8)
        return out
    }

    /// What ends a line or a snapshot file whose bytes so far have the checksum `crc`: `,"crc":"…"}` and a newline.
    static func checksumSuffix(_ crc: UInt32) -> [UInt8] {
        Array(#","crc":""#.utf8) + CRC32C.hex(crc) + Array(#""}"#.utf8) + [0x0A]
    }

    /// A JSON string literal (with quotes) for `text`.
    static func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        let hex = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20, 0x7F:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    private static func appendChecksum(of start: Int, to out: inout [UInt8]) {
        let crc = out.withUnsafeBufferPointer { CRC32C.checksum(UnsafeBufferPointer(rebasing: $0[start...])) }
        out.append(contentsOf: checksumSuffix(crc))
    }

    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: [UInt8] = []
        var rest = value
        while rest > 0 {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        out.append(contentsOf: digits.reversed())
    }

    // MARK: Reading

    /// Parses one line (`range` excludes the newline) and checks its checksum; the error says what is wrong.
    static func parseLine(_ bytes: [UInt8], _ range: Range<Int>) -> Result<Line, JSONScanError> {
        do {
            return .success(try line(bytes, range))
        } catch {
            return .failure(error)
        }
    }

    private static func line(_ bytes: [UInt8], _ range: Range<Int>) throws(JSONScanError) -> Line {
        let members = try checkedMembers(bytes, range, keys: ["seq", "at", "type", "data", "crc"])
        let seq = try unsigned(bytes, members[0].value)
        let at = try timestamp(bytes, members[1].value)
        var typeScanner = JSONScanner(bytes, range: members[2].value)
        let type = try typeScanner.scanString()
        guard bytes[members[3].value.lowerBound] == UInt8(ascii: "{") else {
            throw JSONScanError(reason: "\"data\" is not an object")
        }
        return Line(seq: seq, at: at, type: type, data: members[3].value)
    }

    /// Where the parts of a snapshot file are, when it is laid out exactly as ``snapshotFile(format:seq:at:state:)``
    /// writes it (nothing checked but that layout; the state not read at all).
    struct SnapshotEnvelope {
        let format: UInt64
        let seq: UInt64
        let at: UTCTimestamp
        /// The bytes of `state`: from its `{` to just before `,"crc"`.
        let state: Range<Int>
        /// The bytes the checksum covers: everything before `,"crc"`.
        let checksummed: Int
        let crc: UInt32
    }

    /// The envelope of a snapshot file in exactly the layout this version writes, or nil for any other bytes (which
    /// ``parseSnapshot(_:)`` then judges).
    static func snapshotEnvelope(_ bytes: [UInt8]) -> SnapshotEnvelope? {
        var index = 0
        func literal(_ text: String) -> Bool {
            let utf8 = Array(text.utf8)
            guard bytes.count - index >= utf8.count, bytes[index..<(index + utf8.count)].elementsEqual(utf8) else {
                return false
            }
            index += utf8.count
            return true
        }
        func unsigned() -> UInt64? {
            let start = index
            var value: UInt64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                index += 1
            }
            guard index > start, index - start == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
            return value
        }
        let suffixLength = 19  // ,"crc":"12345678"}\n
        guard literal(#"{"format":"#), let format = unsigned(), literal(#","seq":"#), let seq = unsigned(),
            literal(#","at":""#), bytes.count - index >= 24
        else { return nil }
        let stamp = bytes.withUnsafeBufferPointer {
            UTCTimestamp(parsing: UnsafeBufferPointer(rebasing: $0[index..<(index + 24)]))
        }
        index += 24
        guard let at = stamp, literal(#"","state":"#), bytes.count - index > suffixLength,
            bytes[index] == UInt8(ascii: "{")
        else { return nil }
        let checksummed = bytes.count - suffixLength
        let suffix = bytes[checksummed...]
        guard suffix.prefix(8).elementsEqual(#","crc":""#.utf8),
            suffix.suffix(3).elementsEqual([UInt8(ascii: "\""), UInt8(ascii: "}"), 0x0A]),
            let crc = CRC32C.parseHex(bytes[(checksummed + 8)..<(checksummed + 16)])
        else { return nil }
        return SnapshotEnvelope(
            format: format, seq: seq, at: at, state: index..<checksummed, checksummed: checksummed, crc: crc)
    }

    /// Parses a snapshot file and checks its checksum (not its format: the caller decides what to do with that).
    static func parseSnapshot(_ bytes: [UInt8]) -> Result<SnapshotHeader, JSONScanError> {
        do {
            return .success(try snapshotHeader(bytes))
        } catch {
            return .failure(error)
        }
    }

    private static func snapshotHeader(_ bytes: [UInt8]) throws(JSONScanError) -> SnapshotHeader {
        guard bytes.last == 0x0A else {
            throw JSONScanError(reason: "incomplete file (no newline at the end)")
        }
        let members = try checkedMembers(bytes, 0..<(bytes.count - 1), keys: ["format", "seq", "at", "state", "crc"])
        let format = try unsigned(bytes, members[0].value)
        let seq = try unsigned(bytes, members[1].value)
        let at = try timestamp(bytes, members[2].value)
        guard bytes[members[3].value.lowerBound] == UInt8(ascii: "{") else {
            throw JSONScanError(reason: "\"state\" is not an object")
        }
        return SnapshotHeader(format: format, seq: seq, at: at, state: members[3].value)
    }

    /// Reads the top-level object, requires exactly `keys` in that order, and verifies the final `crc`.
    private static func checkedMembers(
        _ bytes: [UInt8],
        _ range: Range<Int>,
        keys: [String]
    ) throws(JSONScanError) -> [JSONScanner.Member] {
        guard range.lowerBound < range.upperBound, bytes[range.lowerBound] == UInt8(ascii: "{") else {
            throw JSONScanError(reason: "not a JSON object")
        }
        var scanner = JSONScanner(bytes, range: range)
        let members = try scanner.scanObjectMembers()
        guard scanner.isAtEnd else { throw JSONScanError(reason: "bytes after the JSON object") }
        guard members.map(\.key) == keys else {
            throw JSONScanError(reason: "unexpected fields (want \(keys.joined(separator: ", ")) in that order)")
        }
        let crcMember = members[members.count - 1]
        let crcValue = crcMember.value
        guard crcValue.count == 10, bytes[crcValue.lowerBound] == UInt8(ascii: "\""),
            let stored = CRC32C.parseHex(bytes[(crcValue.lowerBound + 1)..<(crcValue.upperBound - 1)])
        else {
            throw JSONScanError(reason: "\"crc\" is not 8 lowercase hex digits")
        }
        let actual = bytes.withUnsafeBufferPointer {
            CRC32C.checksum(UnsafeBufferPointer(rebasing: $0[range.lowerBound..<crcMember.separator]))
        }
        guard actual == stored else {
            throw JSONScanError(reason: "checksum mismatch")
        }
        return members
    }

    private static func unsigned(_ bytes: [UInt8], _ range: Range<Int>) throws(JSONScanError) -> UInt64 {
        var scanner = JSONScanner(bytes, range: range)
        let value = try scanner.scanUnsigned()
        guard scanner.isAtEnd else { throw JSONScanError(reason: "expected an unsigned integer") }
        return value
    }

    private static func timestamp(_ bytes: [UInt8], _ range: Range<Int>) throws(JSONScanError) -> UTCTimestamp {
        var scanner = JSONScanner(bytes, range: range)
        guard let at = UTCTimestamp(parsing: try scanner.scanString()) else {
            throw JSONScanError(reason: "\"at\" is not a UTC timestamp")
        }
        return at
    }

    /// Splits a segment into lines: each range excludes its newline; `complete` is false for a last piece with no
    /// newline.
    static func splitLines(_ bytes: [UInt8]) -> [(range: Range<Int>, complete: Bool)] {
        var lines: [(range: Range<Int>, complete: Bool)] = []
        var start = 0
        bytes.withUnsafeBufferPointer { buffer in
            for index in 0..<buffer.count where buffer[index] == 0x0A {
                lines.append((start..<index, true))
                start = index + 1
            }
        }
        if start < bytes.count {
            lines.append((start..<bytes.count, false))
        }
        return lines
    }
}
