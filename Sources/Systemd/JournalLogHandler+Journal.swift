public import Logging

import CSystemd
import Glibc

/// One `NAME=value` item of a journal entry.
struct JournalField: Sendable, Hashable {
    var name: String
    var value: String
}

/// Hands a list of fields to journald; returns 0 on success or a negative errno.
struct JournalSender: Sendable {
    let send: @Sendable ([JournalField]) -> Int32

    /// `sd_journal_sendv(3)`: `-ENOENT` when there is no journal socket.
    static let libsystemd = JournalSender { fields in
        sendv(fields)
    }

    /// Serializes `fields` into one buffer and points one iovec at each `NAME=value` item.
    private static func sendv(_ fields: [JournalField]) -> Int32 {
        guard !fields.isEmpty else { return -EINVAL }
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            ranges.append(start..<buffer.count)
        }
        return buffer.withUnsafeMutableBytes { bytes in
            guard let base = bytes.baseAddress else { return -EINVAL }
            let vectors = ranges.map { range in
                iovec(iov_base: base + range.lowerBound, iov_len: range.count)
            }
            return vectors.withUnsafeBufferPointer { portero_sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}

extension JournalLogHandler {
    /// The journal field a metadata key is written to.
    ///
    /// `event` → `PORTERO_EVENT`, `user_id` → `PORTERO_USER_ID`, `email_hash` → `PORTERO_EMAIL_HASH`,
    /// `remote_addr` → `REMOTE_ADDR`, `request_id` → `REQUEST_ID`; any other key `foo.bar` or `foo-bar` →
    /// `PORTERO_FOO_BAR` (see ``sanitizedFieldName(_:)``).
    public static func journalFieldName(forMetadataKey key: String) -> String {
        switch key {
        case "event": "PORTERO_EVENT"
        case "user_id": "PORTERO_USER_ID"
        case "email_hash": "PORTERO_EMAIL_HASH"
        case "remote_addr": "REMOTE_ADDR"
        case "request_id": "REQUEST_ID"
        default: sanitizedFieldName("PORTERO_" + key) ?? "PORTERO"
        }
    }

    /// A valid journal field name made from `raw`: ASCII letters upper-cased, every other character but digits
    /// and `_` replaced by `_`, leading `_` and digits dropped (journald reserves those), at most 64 characters.
    ///
    /// - Returns: `nil` when nothing is left.
    public static func sanitizedFieldName(_ raw: String) -> String? {
        var name = ""
        for scalar in raw.unicodeScalars {
            switch scalar {
            case "A"..."Z", "0"..."9", "_":
                name.unicodeScalars.append(scalar)
            case "a"..."z":
                name.unicodeScalars.append(Unicode.Scalar(UInt8(scalar.value) - 32))
            default:
                name.append("_")
            }
        }
        let trimmed = name.drop { $0 == "_" || $0.isASCII && $0.isNumber }
        guard !trimmed.isEmpty else { return nil }
        return String(trimmed.prefix(64))
    }

    /// The syslog priority journald files a level under.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The fields of one journal entry, fixed fields first, then metadata by key.
    static func journalFields(_ entry: LogEntry, identifier: String) -> [JournalField] {
        var fields = [
            JournalField(name: "MESSAGE", value: entry.message),
            JournalField(name: "PRIORITY", value: String(syslogPriority(entry.level))),
            JournalField(name: "SYSLOG_IDENTIFIER", value: identifier),
            JournalField(name: "CODE_FILE", value: entry.file),
            JournalField(name: "CODE_LINE", value: String(entry.line)),
            JournalField(name: "CODE_FUNC", value: entry.function),
            JournalField(name: "PORTERO_LOGGER", value: entry.label),
        ]
        for (key, value) in entry.metadata.sorted(by: { $0.key < $1.key }) {
            fields.append(JournalField(name: journalFieldName(forMetadataKey: key), value: value.description))
        }
        return fields
    }
}
