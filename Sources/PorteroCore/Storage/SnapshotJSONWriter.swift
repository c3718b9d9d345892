public import Foundation
import PorteroFormat

/// Writes the JSON of a snapshot's state exactly as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` and
/// the snapshot's date rule does (``SnapshotJSON``), into a buffer that it hands to a sink whenever it has grown past
/// a threshold: a state of any size is written in pieces of about that size instead of as one copy in memory.
///
/// The caller writes the members of each object in the order `JSONEncoder` sorts them (by their UTF-8 bytes).
/// Token claims are written with it too (``JSONWritableClaims``), in their own order.
public struct SnapshotJSONWriter {
    /// Receives each full buffer, in order.
    public typealias Sink = (UnsafeBufferPointer<UInt8>) throws -> Void

    private var buffer: [UInt8] = []
    private let threshold: Int
    private let sink: Sink?
    /// Bytes handed to the sink so far.
    public private(set) var flushedCount = 0

    /// A writer that hands its buffer to `sink` whenever it holds `threshold` bytes or more at a ``checkpoint()``.
    public init(threshold: Int = 1 << 20, sink: @escaping Sink) {
        self.threshold = threshold
        self.sink = sink
        buffer.reserveCapacity(threshold + threshold / 4)
    }

    /// A writer that keeps everything in memory (``bytes``).
    public init() {
        self.threshold = .max
        self.sink = nil
    }

    /// What was written and not yet handed to the sink (everything, for a writer without one).
    public var bytes: [UInt8] { buffer }

    /// Hands the buffer to the sink if it has reached the threshold; call it between values.
    @inline(__always)
    public mutating func checkpoint() throws {
        if buffer.count >= threshold { try flush() }
    }

    /// Hands whatever is buffered to the sink.
    public mutating func flush() throws {
        guard let sink, !buffer.isEmpty else { return }
        try buffer.withUnsafeBufferPointer { try sink($0) }
        flushedCount += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Appends bytes as they are (JSON produced elsewhere).
    public mutating func raw(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Appends ASCII punctuation or a member name with its quotes and colon, e.g. `"\"email\":"`.
    @inline(__always)
    public mutating func raw(_ text: StaticString) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends one byte.
    @inline(__always)
    public mutating func raw(_ byte: UInt8) {
        buffer.append(byte)
    }

    /// Appends a string literal, escaped as `JSONEncoder` escapes: `"` and `\` by a backslash, the control
    /// characters as `\b \f \n \r \t` or `\u00xx`, everything else (including `/` and non-ASCII) as it is.
    public mutating func string(_ text: String) {
        buffer.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var mark = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if index > mark { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark..<index])) }
                mark = index + 1
                buffer.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): buffer.append(byte)
                case 0x08: buffer.append(UInt8(ascii: "b"))
                case 0x0C: buffer.append(UInt8(ascii: "f"))
                case 0x0A: buffer.append(UInt8(ascii: "n"))
                case 0x0D: buffer.append(UInt8(ascii: "r"))
                case 0x09: buffer.append(UInt8(ascii: "t"))
                default:
                    buffer.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    buffer.append(Self.lowerHex[Int(byte >> 4)])
                    buffer.append(Self.lowerHex[Int(byte & 0xF)])
                }
            }
            if utf8.count > mark { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark...])) }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// Appends an integer in decimal.
    public mutating func int(_ value: Int) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        if magnitude < 10 {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { out in
            var position = out.count
            while magnitude > 0 {
                position -= 1
                out[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            buffer.append(contentsOf: out[position...])
        }
    }

    /// Appends `true` or `false`.
    public mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }

    /// Appends a UUID as `JSONEncoder` does: its `uuidString`, upper-case, quoted.
    public mutating func uuid(_ value: UUID) {
        buffer.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: value.uuid) { bytes in
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 { buffer.append(UInt8(ascii: "-")) }
                buffer.append(Self.upperHex[Int(bytes[index] >> 4)])
                buffer.append(Self.upperHex[Int(bytes[index] & 0xF)])
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// Appends a date by the snapshot's rule: the UTC timestamp string when it is exact (every `at` the store hands
    /// out is), otherwise the seconds since 2001 as `JSONEncoder` writes a `Double`.
    public mutating func date(_ value: Date) throws {
        let stamp = UTCTimestamp(value)
        if stamp.date == value {
            buffer.append(UInt8(ascii: "\""))
            buffer.append(contentsOf: stamp.bytes)
            buffer.append(UInt8(ascii: "\""))
            return
        }
        let seconds = value.timeIntervalSinceReferenceDate
        guard seconds.isFinite else {
            throw EncodingError.invalidValue(
                seconds, EncodingError.Context(codingPath: [], debugDescription: "a date that is not finite"))
        }
        var text = seconds.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        buffer.append(contentsOf: text.utf8)
    }

    private static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)
    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)
}
