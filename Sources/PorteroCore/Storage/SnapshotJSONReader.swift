public import Foundation
import Glibc
import PorteroFormat

/// Why ``SnapshotJSONReader`` gave up; `offset` is where, counted from the start of the bytes it was given.
public struct SnapshotJSONReadError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public let offset: Int

    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict pull reader over the JSON of a snapshot's state, for states that read their snapshot themselves
/// (``StoreStateProtocol/readSnapshot(_:)``) instead of through `JSONDecoder`.
///
/// It reads what the snapshot writer writes and refuses, rather than guesses at, anything where `JSONDecoder` might
/// read differently: duplicate and unknown members (the caller checks), escaped member names, lone surrogates,
/// invalid UTF-8, integers with a fraction or an exponent, numbers out of range, nesting deeper than 64. A refusal is
/// not a verdict on the snapshot: the store then decodes it with `JSONDecoder`, which decides.
///
/// - Important: The reader holds a pointer into the buffer it was made with; use it only inside the closure that
///   lent that buffer.
public struct SnapshotJSONReader {
    /// A member name as it appears in the bytes (between its quotes, no escapes).
    public struct Name {
        let start: UnsafePointer<UInt8>
        let count: Int

        /// Whether the name is exactly `text` (ASCII).
        @inline(__always)
        public func isEqual(to text: StaticString) -> Bool {
            count == text.utf8CodeUnitCount && memcmp(start, text.utf8Start, count) == 0
        }
    }

    private let base: UnsafePointer<UInt8>
    private var end: Int
    private(set) var index = 0
    private var depth = 0
    private var scratch: [UInt8] = []

    private static let maximumDepth = 64

    /// Where a reader is: what it needs, besides the buffer, to go on reading (on another thread, say).
    public struct Position: Sendable {
        public fileprivate(set) var offset: Int
        fileprivate var end: Int
        fileprivate var depth: Int
    }

    /// A reader over `buffer`.
    public init(_ buffer: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no base address; any non-nil pointer with `end == 0` reads nothing.
        self.base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
        self.end = buffer.count
    }

    /// A reader over `buffer` (the one the position was taken in) that goes on from `position`.
    public init(_ buffer: UnsafeBufferPointer<UInt8>, at position: Position) {
        self.init(buffer)
        self.end = min(position.end, buffer.count)
        self.index = min(position.offset, self.end)
        self.depth = position.depth
    }

    /// Where this reader is.
    public var position: Position { Position(offset: index, end: end, depth: depth) }

    /// Goes on from `position`, taken from a reader over the same buffer.
    public mutating func move(to position: Position) {
        end = min(position.end, end)
        index = min(position.offset, end)
        depth = position.depth
    }

    /// The offset of the next byte to read.
    public var offset: Int { index }

    /// How many bytes are left to read.
    public var remainingCount: Int { end - index }

    // MARK: Structure

    /// Reads `{`.
    public mutating func beginObject() throws(SnapshotJSONReadError) {
        skipSpace()
        try expect(UInt8(ascii: "{"))
        try nest()
    }

    /// Reads `[`.
    public mutating func beginArray() throws(SnapshotJSONReadError) {
        skipSpace()
        try expect(UInt8(ascii: "["))
        try nest()
    }

    /// Reads the next member's name and its `:`, or the object's `}` (then nil). `first` says whether this is the
    /// first call for this object.
    public mutating func nextName(first: Bool) throws(SnapshotJSONReadError) -> Name? {
        skipSpace()
        guard index < end else { throw fail("unterminated object") }
        if base[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return nil
        }
        if !first {
            try expect(UInt8(ascii: ","))
            skipSpace()
        }
        let name = try rawName()
        skipSpace()
        try expect(UInt8(ascii: ":"))
        return name
    }

    /// Reads the next member's name as a string (escapes decoded) and its `:`, or the object's `}` (then nil): for
    /// objects that are maps, whose keys are data.
    public mutating func nextKey(first: Bool) throws(SnapshotJSONReadError) -> String? {
        skipSpace()
        guard index < end else { throw fail("unterminated object") }
        if base[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return nil
        }
        if !first {
            try expect(UInt8(ascii: ","))
        }
        let key = try readString()
        skipSpace()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// Moves to the next element of an array: true if there is one, false after reading the `]`. `first` says
    /// whether this is the first call for this array.
    public mutating func nextElement(first: Bool) throws(SnapshotJSONReadError) -> Bool {
        skipSpace()
        guard index < end else { throw fail("unterminated array") }
        if base[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return false
        }
        if !first {
            try expect(UInt8(ascii: ","))
        }
        return true
    }

    /// Reads the `,` between two elements (or members).
    public mutating func expectComma() throws(SnapshotJSONReadError) {
        skipSpace()
        try expect(UInt8(ascii: ","))
    }

    /// This reader's position, but ending at `offset` instead (never past its own end): for reading a part of an
    /// array.
    public func position(endingAt offset: Int) -> Position {
        Position(offset: index, end: min(offset, end), depth: depth)
    }

    /// This reader's position moved on to `offset` (at the same depth): for reading the rest of an array from one
    /// of its elements.
    public func position(movedTo offset: Int) -> Position {
        Position(offset: min(max(offset, index), end), end: end, depth: depth)
    }

    /// The offset of the first occurrence of `pattern` at or after `offset`, or nil.
    public func find(_ pattern: StaticString, from offset: Int) -> Int? {
        let count = pattern.utf8CodeUnitCount
        guard count > 0 else { return nil }
        let first = Int32(pattern.utf8Start[0])
        var position = max(offset, 0)
        while end - position >= count {
            guard let hit = memchr(base + position, first, end - position) else { return nil }
            position = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
            guard end - position >= count else { return nil }
            if memcmp(base + position, pattern.utf8Start, count) == 0 { return position }
            position += 1
        }
        return nil
    }

    /// Requires that nothing but white space is left.
    public mutating func expectEnd() throws(SnapshotJSONReadError) {
        skipSpace()
        guard index == end else { throw fail("bytes after the value") }
    }

    // MARK: Values

    /// Consumes `null` if it is next; true if it was.
    public mutating func readNull() -> Bool {
        skipSpace()
        guard end - index >= 4, base[index] == UInt8(ascii: "n"), base[index + 1] == UInt8(ascii: "u"),
            base[index + 2] == UInt8(ascii: "l"), base[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// Reads `true` or `false`.
    public mutating func readBool() throws(SnapshotJSONReadError) -> Bool {
        skipSpace()
        if try literal("true") { return true }
        if try literal("false") { return false }
        throw fail("expected a boolean")
    }

    /// Reads a string: its value with escapes decoded; invalid UTF-8 and lone surrogates are refused.
    public mutating func readString() throws(SnapshotJSONReadError) -> String {
        skipSpace()
        try expect(UInt8(ascii: "\""))
        let start = index
        var ascii = true
        while index < end {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                let count = index - start
                index += 1
                let bytes = UnsafeBufferPointer(start: base + start, count: count)
                if ascii { return String(decoding: bytes, as: UTF8.self) }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw fail("invalid UTF-8 in a string")
                }
                return text
            }
            if byte == UInt8(ascii: "\\") {
                return try escapedString(from: start)
            }
            if byte < 0x20 { throw fail("control character in a string") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        throw fail("unterminated string")
    }

    /// Reads a string, or `null` (then nil).
    public mutating func readOptionalString() throws(SnapshotJSONReadError) -> String? {
        readNull() ? nil : try readString()
    }

    /// Reads an integer: an optional `-` and digits without a leading zero, fitting `Int`.
    public mutating func readInt() throws(SnapshotJSONReadError) -> Int {
        skipSpace()
        let negative = index < end && base[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var magnitude: UInt64 = 0
        while index < end, base[index] >= UInt8(ascii: "0"), base[index] <= UInt8(ascii: "9") {
            let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(base[index] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw fail("integer out of range") }
            magnitude = sum
            index += 1
        }
        guard index > start else { throw fail("expected an integer") }
        guard index - start == 1 || base[start] != UInt8(ascii: "0") else { throw fail("leading zero") }
        if index < end, base[index] == UInt8(ascii: ".") || base[index] | 0x20 == UInt8(ascii: "e") {
            throw fail("expected an integer without fraction or exponent")
        }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1, magnitude > 0 else { throw fail("integer out of range") }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { throw fail("integer out of range") }
        return Int(magnitude)
    }

    /// Reads a UUID string in its 8-4-4-4-12 hex form (either case).
    public mutating func readUUID() throws(SnapshotJSONReadError) -> UUID {
        skipSpace()
        guard end - index >= 38, base[index] == UInt8(ascii: "\""), base[index + 37] == UInt8(ascii: "\"") else {
            throw fail("expected a UUID")
        }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let text = base + index + 1
        let ok = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var position = 0
            for slot in 0..<16 {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    guard text[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                }
                guard let high = Self.nibble(text[position]), let low = Self.nibble(text[position + 1]) else {
                    return false
                }
                out[slot] = high << 4 | low
                position += 2
            }
            return position == 36
        }
        guard ok else { throw fail("expected a UUID") }
        index += 38
        return UUID(uuid: bytes)
    }

    /// Reads a UUID, or `null` (then nil).
    public mutating func readOptionalUUID() throws(SnapshotJSONReadError) -> UUID? {
        readNull() ? nil : try readUUID()
    }

    /// Reads a date the way snapshots write them: a UTC timestamp string, or seconds since 2001 as a number.
    public mutating func readDate() throws(SnapshotJSONReadError) -> Date {
        skipSpace()
        guard index < end else { throw fail("expected a date") }
        if base[index] == UInt8(ascii: "\"") {
            let start = index + 1
            var position = start
            while position < end, base[position] != UInt8(ascii: "\""), base[position] != UInt8(ascii: "\\"),
                position - start <= 40
            {
                position += 1
            }
            guard position < end, base[position] == UInt8(ascii: "\""),
                let stamp = UTCTimestamp(parsing: UnsafeBufferPointer(start: base + start, count: position - start))
            else { throw fail("expected a UTC timestamp") }
            index = position + 1
            return stamp.date
        }
        let start = index
        try skipNumber()
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
        guard let seconds = Double(text), seconds.isFinite else { throw fail("date out of range") }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    /// Reads a date, or `null` (then nil).
    public mutating func readOptionalDate() throws(SnapshotJSONReadError) -> Date? {
        readNull() ? nil : try readDate()
    }

    /// Reads an array of strings.
    public mutating func readStrings() throws(SnapshotJSONReadError) -> [String] {
        try beginArray()
        var strings: [String] = []
        var first = true
        while try nextElement(first: first) {
            first = false
            strings.append(try readString())
        }
        return strings
    }

    /// An error at the current offset.
    public func fail(_ reason: String) -> SnapshotJSONReadError {
        SnapshotJSONReadError(reason: reason, offset: index)
    }

    // MARK: Internals

    @inline(__always)
    private mutating func skipSpace() {
        while index < end {
            switch base[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    @inline(__always)
    private mutating func expect(_ byte: UInt8) throws(SnapshotJSONReadError) {
        guard index < end, base[index] == byte else {
            throw fail("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    private mutating func nest() throws(SnapshotJSONReadError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw fail("nested too deeply") }
    }

    private mutating func literal(_ word: StaticString) throws(SnapshotJSONReadError) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - index >= count, memcmp(base + index, word.utf8Start, count) == 0 else { return false }
        index += count
        return true
    }

    /// A member name without escapes (a name with one is refused: `JSONDecoder` would match it unescaped).
    private mutating func rawName() throws(SnapshotJSONReadError) -> Name {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < end {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return Name(start: base + start, count: index - 1 - start)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { throw fail("escape or control character in a name") }
            index += 1
        }
        throw fail("unterminated name")
    }

    /// The rest of a string that has an escape; `start` is its first byte after the quote.
    private mutating func escapedString(from start: Int) throws(SnapshotJSONReadError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: index - start))
        while index < end {
            let byte = base[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: scratch, as: UTF8.self) else {
                    throw fail("invalid UTF-8 in a string")
                }
                return text
            case UInt8(ascii: "\\"):
                guard end - index >= 2 else { throw fail("unterminated string") }
                let escape = base[index + 1]
                index += 2
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escape)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xDC00..<0xE000).contains(scalar) { throw fail("lone low surrogate") }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard end - index >= 6, base[index] == UInt8(ascii: "\\"), base[index + 1] == UInt8(ascii: "u")
                        else { throw fail("lone high surrogate") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("lone high surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let value = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    UTF8.encode(value) { scratch.append($0) }
                default:
                    throw fail("invalid escape")
                }
            case 0..<0x20:
                throw fail("control character in a string")
            default:
                scratch.append(byte)
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws(SnapshotJSONReadError) -> UInt32 {
        guard end - index >= 4 else { throw fail("invalid \\u escape") }
        var value: UInt32 = 0
        for offset in 0..<4 {
            guard let nibble = Self.nibble(base[index + offset]) else { throw fail("invalid \\u escape") }
            value = value << 4 | UInt32(nibble)
        }
        index += 4
        return value
    }

    private mutating func skipNumber() throws(SnapshotJSONReadError) {
        if index < end, base[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        skipDigits()
        guard index > integerStart else { throw fail("invalid value") }
        guard index - integerStart == 1 || base[integerStart] != UInt8(ascii: "0") else {
            throw fail("leading zero")
        }
        if index < end, base[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            skipDigits()
            guard index > fractionStart else { throw fail("invalid number") }
        }
        if index < end, base[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < end, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") { index += 1 }
            let exponentStart = index
            skipDigits()
            guard index > exponentStart else { throw fail("invalid number") }
        }
    }

    private mutating func skipDigits() {
        while index < end, base[index] >= UInt8(ascii: "0"), base[index] <= UInt8(ascii: "9") {
            index += 1
        }
    }

    @inline(__always)
    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
