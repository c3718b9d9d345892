import PorteroFormat
import Logging

import Glibc
import Synchronization

extension JournalLogHandler {
    /// Keys the JSON format writes itself; metadata under these names is written as `metadata.<key>`.
    static let reservedJSONKeys: Set<String> = ["time", "level", "logger", "message"]

    /// `2026-11-23T15:30:00.123Z info portero: message key=value key2="quoted value"`, always one line.
    static func textLine(_ entry: LogEntry) -> String {
        var line = entry.time.iso8601
        line += " "
        line += entry.level.rawValue
        line += " "
        appendEscaped(entry.label, to: &line, quoting: false)
        line += ": "
        appendEscaped(entry.message, to: &line, quoting: false)
        for (key, value) in entry.metadata.sorted(by: { $0.key < $1.key }) {
            line += " "
            appendTextKey(key, to: &line)
            line += "="
            appendTextValue(value.description, to: &line)
        }
        return line
    }

    /// `{"time":"…","level":"info","logger":"portero","message":"…",<metadata by key>}`, always one line.
    static func jsonLine(_ entry: LogEntry) -> String {
        var line = "{\"time\":"
        appendJSONString(entry.time.iso8601, to: &line)
        line += ",\"level\":"
        appendJSONString(entry.level.rawValue, to: &line)
        line += ",\"logger\":"
        appendJSONString(entry.label, to: &line)
        line += ",\"message\":"
        appendJSONString(entry.message, to: &line)
        for (key, value) in entry.metadata.sorted(by: { $0.key < $1.key }) {
            line += ","
            appendJSONString(reservedJSONKeys.contains(key) ? "metadata." + key : key, to: &line)
            line += ":"
            appendJSONValue(value, to: &line)
        }
        line += "}"
        return line
    }

    // MARK: - Text

    /// A metadata key with control characters escaped and spaces, `=` and `"` replaced by `_`.
    private static func appendTextKey(_ key: String, to line: inout String) {
        guard !key.isEmpty else {
            line += "\"\""
            return
        }
        var cleaned = String.UnicodeScalarView()
        for scalar in key.unicodeScalars {
            cleaned.append(scalar == " " || scalar == "=" || scalar == "\"" ? "_" : scalar)
        }
        appendEscaped(String(cleaned), to: &line, quoting: false)
    }

    /// A value, bare when it is a plain word and quoted (with `\"` and `\\` escaped) otherwise.
    private static func appendTextValue(_ value: String, to line: inout String) {
        let isBare =
            !value.isEmpty
            && !value.unicodeScalars.contains { scalar in
                scalar == " " || scalar == "\"" || scalar == "=" || scalar == "\\" || needsEscape(scalar)
                    || scalar.properties.isWhitespace
            }
        if isBare {
            line += value
        } else {
            line += "\""
            appendEscaped(value, to: &line, quoting: true)
            line += "\""
        }
    }

    /// Appends `text` with control characters escaped (`\n`, `\r`, `\t`, `\u001B`, …); with `quoting`, also
    /// `"` and `\`.
    private static func appendEscaped(_ text: String, to line: inout String, quoting: Bool) {
        for scalar in text.unicodeScalars {
            if quoting && (scalar == "\"" || scalar == "\\") {
                line += "\\"
                line.unicodeScalars.append(scalar)
            } else if needsEscape(scalar) {
                appendEscape(scalar, to: &line)
            } else {
                line.unicodeScalars.append(scalar)
            }
        }
    }

    // MARK: - JSON

    private static func appendJSONValue(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let string):
            appendJSONString(string, to: &line)
        case .stringConvertible(let convertible):
            appendJSONString(convertible.description, to: &line)
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                appendJSONValue(element, to: &line)
            }
            line += "]"
        case .dictionary(let dictionary):
            line += "{"
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { line += "," }
                appendJSONString(key, to: &line)
                line += ":"
                appendJSONValue(element, to: &line)
            }
            line += "}"
        }
    }

    private static func appendJSONString(_ text: String, to line: inout String) {
        line += "\""
        appendEscaped(text, to: &line, quoting: true)
        line += "\""
    }

    // MARK: - Escapes shared by both

    /// C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    /// `\n`, `\r`, `\t`, else `\uXXXX` (valid in JSON and unambiguous in text).
    private static func appendEscape(_ scalar: Unicode.Scalar, to line: inout String) {
        switch scalar {
        case "\n": line += "\\n"
        case "\r": line += "\\r"
        case "\t": line += "\\t"
        default:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            line += "\\u" + hex.leftPadded(to: 4)
        }
    }
}

/// A wall-clock instant, rendered in UTC with milliseconds.
struct LogTimestamp: Sendable, Hashable {
    var seconds: Int
    var nanoseconds: Int

    /// The current `CLOCK_REALTIME` time.
    static func now() -> LogTimestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return LogTimestamp(seconds: now.tv_sec, nanoseconds: now.tv_nsec)
    }

    /// `2026-11-23T15:30:00.123Z`.
    var iso8601: String {
        UTCTimestamp(milliseconds: Int64(seconds) * 1000 + Int64(nanoseconds / 1_000_000)).string
    }
}

/// Where rendered lines go; writes are serialized so concurrent entries never interleave.
final class LineOutput: Sendable {
    private let lock = Mutex(())
    private let body: @Sendable (String) -> Void

    init(_ body: @escaping @Sendable (String) -> Void) {
        self.body = body
    }

    /// Hands one line (without newline) to the sink.
    func write(_ line: String) {
        lock.withLock { _ in body(line) }
    }

    /// Standard error, shared by every handler so that their lines never interleave.
    static let standardError = LineOutput { line in
        writeAll(STDERR_FILENO, Array((line + "\n").utf8))
    }

    /// Writes all of `bytes`, retrying on `EINTR` and short writes; gives up silently on other errors.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, base + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
