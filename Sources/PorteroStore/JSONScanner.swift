/// Why a piece of JSON was rejected.
struct JSONScanError: Error, Sendable {
    let reason: String
}

/// A strict, allocation-light JSON reader over a byte range: validates values and reports where they are.
///
/// The store never needs a JSON tree: it needs to know that a line is valid JSON, where each top-level member
/// starts and ends (the checksum covers the bytes before `,"crc"`), and the raw bytes of `data` to hand to the
/// record's own decoder.
struct JSONScanner {
    /// One member of an object: its key, the byte range of its value, and the index of the `{` or `,` before it.
    struct Member {
        let key: String
        let value: Range<Int>
        let separator: Int
    }

    private let bytes: [UInt8]
    private(set) var index: Int
    private let end: Int
    private var depth = 0

    private static let maximumDepth = 512

    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.index = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { index >= end }

    /// Checks that `range` of `bytes` holds exactly one JSON object (no surrounding whitespace).
    static func isSingleObject(_ bytes: [UInt8], range: Range<Int>) -> Bool {
        guard range.lowerBound < range.upperBound, bytes[range.lowerBound] == UInt8(ascii: "{") else { return false }
        var scanner = JSONScanner(bytes, range: range)
        guard (try? scanner.scanValue()) != nil else { return false }
        return scanner.isAtEnd
    }

    /// Reads one object and returns its members in order, without looking inside their values beyond validation.
    mutating func scanObjectMembers() throws(JSONScanError) -> [Member] {
        skipSpace()
        try expect(UInt8(ascii: "{"))
        var members: [Member] = []
        var separator = index - 1
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipSpace()
            let key = try scanString()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            depth = 1
            let value = try scanValue()
            members.append(Member(key: key, value: value, separator: separator))
            skipSpace()
            guard let byte = peek() else { throw JSONScanError(reason: "unterminated object") }
            index += 1
            if byte == UInt8(ascii: "}") {
                return members
            }
            guard byte == UInt8(ascii: ",") else { throw JSONScanError(reason: "expected ',' or '}' in object") }
            separator = index - 1
        }
    }

    /// Validates one value and returns its byte range.
    @discardableResult
    mutating func scanValue() throws(JSONScanError) -> Range<Int> {
        skipSpace()
        let start = index
        guard let byte = peek() else { throw JSONScanError(reason: "unexpected end of JSON") }
        switch byte {
        case UInt8(ascii: "{"):
            try nest()
            index += 1
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipSpace()
                    try skipString()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    try scanValue()
                    skipSpace()
                    guard let next = peek() else { throw JSONScanError(reason: "unterminated object") }
                    index += 1
                    if next == UInt8(ascii: "}") { break }
                    guard next == UInt8(ascii: ",") else { throw JSONScanError(reason: "expected ',' or '}'") }
                }
            }
            depth -= 1
        case UInt8(ascii: "["):
            try nest()
            index += 1
            skipSpace()
            if peek() == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    try scanValue()
                    skipSpace()
                    guard let next = peek() else { throw JSONScanError(reason: "unterminated array") }
                    index += 1
                    if next == UInt8(ascii: "]") { break }
                    guard next == UInt8(ascii: ",") else { throw JSONScanError(reason: "expected ',' or ']'") }
                }
            }
            depth -= 1
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"):
            try literal("true")
        case UInt8(ascii: "f"):
            try literal("false")
        case UInt8(ascii: "n"):
            try literal("null")
        default:
            try skipNumber()
        }
        return start..<index
    }

    /// Reads a string and returns its decoded value.
    mutating func scanString() throws(JSONScanError) -> String {
        let range = try stringRange()
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var position = range.lowerBound + 1
        let last = range.upperBound - 1
        while position < last {
            let byte = bytes[position]
            if byte != UInt8(ascii: "\\") {
                out.append(byte)
                position += 1
                continue
            }
            let escape = bytes[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = Self.hex4(bytes, position)
                position += 4
                if (0xD800..<0xDC00).contains(scalar), position + 6 <= last, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                {
                    let low = Self.hex4(bytes, position + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        position += 6
                    }
                }
                UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { out.append($0) }
            default: out.append(escape)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads an unsigned integer without sign, fraction, exponent or leading zeros.
    mutating func scanUnsigned() throws(JSONScanError) -> UInt64 {
        skipSpace()
        let start = index
        var value: UInt64 = 0
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw JSONScanError(reason: "integer too large") }
            value = sum
            index += 1
        }
        guard index > start else { throw JSONScanError(reason: "expected an integer") }
        guard index - start == 1 || bytes[start] != UInt8(ascii: "0") else {
            throw JSONScanError(reason: "integer with a leading zero")
        }
        return value
    }

    mutating func skipSpace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func peek() -> UInt8? {
        index < end ? bytes[index] : nil
    }

    private mutating func expect(_ byte: UInt8) throws(JSONScanError) {
        guard peek() == byte else {
            throw JSONScanError(reason: "expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    private mutating func nest() throws(JSONScanError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw JSONScanError(reason: "JSON nested too deeply") }
    }

    private mutating func literal(_ word: StaticString) throws(JSONScanError) {
        let count = word.utf8CodeUnitCount
        guard end - index >= count else { throw JSONScanError(reason: "unexpected end of JSON") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw JSONScanError(reason: "invalid literal")
        }
        index += count
    }

    private mutating func skipString() throws(JSONScanError) {
        _ = try stringRange()
    }

    /// Validates a string token and returns its range including the quotes.
    private mutating func stringRange() throws(JSONScanError) -> Range<Int> {
        let start = index
        try expect(UInt8(ascii: "\""))
        while index < end {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return start..<index
            case UInt8(ascii: "\\"):
                guard index + 1 < end else { throw JSONScanError(reason: "unterminated string") }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard end - index >= 6, (index + 2..<index + 6).allSatisfy({ Self.isHexDigit(bytes[$0]) }) else {
                        throw JSONScanError(reason: "invalid \\u escape")
                    }
                    index += 6
                default:
                    throw JSONScanError(reason: "invalid escape in string")
                }
            case 0..<0x20:
                throw JSONScanError(reason: "control character in string")
            default:
                index += 1
            }
        }
        throw JSONScanError(reason: "unterminated string")
    }

    private mutating func skipNumber() throws(JSONScanError) {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        skipDigits()
        guard index > integerStart else { throw JSONScanError(reason: "invalid value") }
        guard index - integerStart == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
            throw JSONScanError(reason: "number with a leading zero")
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            skipDigits()
            guard index > fractionStart else { throw JSONScanError(reason: "invalid number") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            let exponentStart = index
            skipDigits()
            guard index > exponentStart else { throw JSONScanError(reason: "invalid number") }
        }
        assert(index > start)
    }

    private mutating func skipDigits() {
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            index += 1
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default:
            false
        }
    }

    private static func hex4(_ bytes: [UInt8], _ start: Int) -> UInt32 {
        var value: UInt32 = 0
        for byte in bytes[start..<start + 4] {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: nibble = byte - UInt8(ascii: "A") + 10
            }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }
}
