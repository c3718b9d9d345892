public import PorteroCore
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The RFC 5322 form of a `OutboxMail`: a `text/plain; charset=UTF-8` message with CRLF line endings, or, when the
/// message has an HTML part, a `multipart/alternative` of the text and the HTML (RFC 2046 §5.1.4: plain text first,
/// so a client that shows HTML takes the last).
///
/// Headers: `Date` (UTC), `From`, `To`, `Subject` (RFC 2047 `=?UTF-8?B?…?=` encoded-words unless it is short,
/// printable ASCII), `Message-ID: <id@domain>`, `MIME-Version`, `Content-Type`, `Content-Transfer-Encoding` and
/// `Auto-Submitted: auto-generated`. The body is sent `8bit`, or `quoted-printable` when a line is longer than
/// RFC 5322's 998 octets or holds a NUL.
///
/// - Important: a header value holding CR, LF or NUL is refused with `MailError.Code.invalidHeader`, never emitted
///   (header injection); so are other control characters in the addresses.
public struct RFC5322Message: Sendable, Equatable {
    /// How lines end in `bytes(lineEnding:)`.
    public enum LineEnding: Sendable {
        /// CRLF, as on the wire (SMTP, RFC 5322).
        case crlf
        /// LF alone: the local convention of `sendmail` standard input and of Maildir files.
        case lf
    }

    /// One header field.
    public struct Field: Sendable, Equatable {
        /// The field name, e.g. `Subject`.
        public let name: String
        /// The value as written, possibly folded with CRLF + space.
        public let value: String
    }

    /// The header fields, in order.
    public let fields: [Field]
    /// The encoded body, with CRLF line endings and a final CRLF.
    public let body: [UInt8]

    /// The value of the first field named `name` (case-insensitive), as written.
    public func field(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Builds the message.
    ///
    /// - Parameters:
    ///   - message: what to send.
    ///   - from: the `From` value (`mail.from`): an address, or `Display Name <address>`.
    ///   - date: the `Date` header's time.
    ///   - messageIDDomain: the right-hand side of the `Message-ID`, usually the host name.
    /// - Throws: `MailError` with code `.invalidHeader` when a value would break the header.
    public init(_ message: OutboxMail, from: String, date: Date, messageIDDomain: String) throws(MailError) {
        try Self.checkAddress(from, field: "From")
        try Self.checkAddress(message.to, field: "To")
        try Self.checkUnstructured(message.subject, field: "Subject")
        guard Self.isDotAtom(messageIDDomain) else {
            throw MailError(.invalidHeader, "Message-ID domain is not a valid host name")
        }
        var fields = [
            Field(name: "Date", value: Self.formatDate(date)),
            Field(name: "From", value: from),
            Field(name: "To", value: message.to),
            Field(name: "Subject", value: Self.encodeSubject(message.subject)),
            Field(name: "Message-ID", value: "<\(message.id.uuidString.lowercased())@\(messageIDDomain)>"),
            Field(name: "MIME-Version", value: "1.0"),
        ]
        if let html = message.html {
            let (body, boundary) = Self.alternative(text: message.text, html: html, id: message.id)
            fields.append(Field(name: "Content-Type", value: "multipart/alternative; boundary=\"\(boundary)\""))
            fields.append(Field(name: "Content-Transfer-Encoding", value: "8bit"))
            self.body = body
        } else {
            let (body, encoding) = Self.encodeBody(message.text)
            fields.append(Field(name: "Content-Type", value: "text/plain; charset=UTF-8"))
            fields.append(Field(name: "Content-Transfer-Encoding", value: encoding))
            self.body = body
        }
        fields.append(Field(name: "Auto-Submitted", value: "auto-generated"))
        self.fields = fields
    }

    /// The body of a `multipart/alternative` message: the text part, then the HTML part, each encoded as a
    /// single-part body would be; and its boundary, which neither part contains.
    static func alternative(text: String, html: String, id: UUID) -> (body: [UInt8], boundary: String) {
        let parts = [("text/plain", encodeBody(text)), ("text/html", encodeBody(html))]
        var boundary = "=_portero_" + id.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        while parts.contains(where: { contains($0.1.body, Array(boundary.utf8)) }) {
            boundary += "_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        }
        var out: [UInt8] = []
        for (type, (body, encoding)) in parts {
            out.append(contentsOf: Array("--\(boundary)".utf8) + crlf)
            out.append(contentsOf: Array("Content-Type: \(type); charset=UTF-8".utf8) + crlf)
            out.append(contentsOf: Array("Content-Transfer-Encoding: \(encoding)".utf8) + crlf + crlf)
            out.append(contentsOf: body)
        }
        out.append(contentsOf: Array("--\(boundary)--".utf8) + crlf)
        return (out, boundary)
    }

    /// Whether `needle` occurs in `haystack`.
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }

    /// The whole message: header fields, an empty line, the body.
    public func bytes(lineEnding: LineEnding = .crlf) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 512)
        for field in fields {
            out.append(contentsOf: Array(field.name.utf8))
            out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            out.append(contentsOf: Array(field.value.utf8))
            out.append(contentsOf: Self.crlf)
        }
        out.append(contentsOf: Self.crlf)
        out.append(contentsOf: body)
        guard lineEnding == .lf else { return out }
        // Every line break in `out` is a CRLF pair (the body was normalised), so dropping each CR before an LF
        // leaves no CR at all.
        var lf: [UInt8] = []
        lf.reserveCapacity(out.count)
        for (index, byte) in out.enumerated() {
            if byte == 13, index + 1 < out.count, out[index + 1] == 10 { continue }
            lf.append(byte)
        }
        return lf
    }

    /// The whole message with CRLF line endings, as `Data`.
    public var data: Data {
        Data(bytes())
    }

    // MARK: - Validation

    private static let crlf: [UInt8] = [13, 10]

    /// Refuses CR, LF and NUL, which would end the header or truncate it.
    private static func checkUnstructured(_ value: String, field: String) throws(MailError) {
        if value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw MailError(.invalidHeader, "\(field) header refused: it contains CR, LF or NUL")
        }
    }

    /// Refuses empty addresses and any control character (CR, LF, NUL, TAB, DEL, ...).
    private static func checkAddress(_ value: String, field: String) throws(MailError) {
        try checkUnstructured(value, field: field)
        if value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw MailError(.invalidHeader, "\(field) header refused: it contains a control character")
        }
        if value.allSatisfy({ $0 == " " }) {
            throw MailError(.invalidHeader, "\(field) header refused: it is empty")
        }
    }

    /// True when `value` is RFC 5322 `dot-atom-text`.
    private static func isDotAtom(_ value: String) -> Bool {
        let special = Set("!#$%&'*+-/=?^_`{|}~".utf8)
        let atoms = value.split(separator: ".", omittingEmptySubsequences: false)
        return !atoms.isEmpty
            && atoms.allSatisfy { atom in
                !atom.isEmpty
                    && atom.utf8.allSatisfy { byte in
                        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                            || (byte >= 0x61 && byte <= 0x7A)
                            || special.contains(byte)
                    }
            }
    }

    // MARK: - Date

    private static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let monthNames = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// `Tue, 01 Jul 2025 09:05:03 +0000`: RFC 5322 section 3.3, in UTC.
    static func formatDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String {
            value < 10 ? "0\(value)" : "\(value)"
        }
        let day = dayNames[Int(parts.tm_wday) % 7]
        let month = monthNames[Int(parts.tm_mon) % 12]
        let time = "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        return "\(day), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) \(time) +0000"
    }

    // MARK: - Subject

    /// The longest subject sent as is: `Subject: ` plus it fits in RFC 5322's recommended 78 characters.
    private static let plainSubjectLimit = 78 - "Subject: ".count
    /// UTF-8 bytes per encoded-word: 42 bytes are 56 base64 characters, so a folded line
    /// (` =?UTF-8?B?` + 56 + `?=`) stays under 78 characters and each word under RFC 2047's 75.
    private static let encodedWordBytes = 42

    /// The subject as is when it is short printable ASCII, else as RFC 2047 encoded-words, folded.
    static func encodeSubject(_ subject: String) -> String {
        let utf8 = Array(subject.utf8)
        let plain =
            utf8.count <= plainSubjectLimit
            && utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
            && !subject.contains("=?")
            && subject.first != " " && subject.last != " "
        if plain { return subject }
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in subject.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > encodedWordBytes {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append(encodedWord(chunk))
        }
        return words.joined(separator: "\r\n ")
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?\(Data(bytes).base64EncodedString())?="
    }

    // MARK: - Body

    /// RFC 5322's limit on a line, without its CRLF.
    private static let maxLineOctets = 998

    /// The body with every line break (CRLF, LF or a lone CR) made CRLF and a final CRLF, and its
    /// `Content-Transfer-Encoding`.
    static func encodeBody(_ text: String) -> (body: [UInt8], encoding: String) {
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 13 || byte == 10 {
                lines.append(line)
                line = []
                if byte == 13, index + 1 < bytes.count, bytes[index + 1] == 10 { index += 1 }
            } else {
                line.append(byte)
            }
            index += 1
        }
        if !line.isEmpty { lines.append(line) }

        let needsQuoting = lines.contains { $0.count > maxLineOctets || $0.contains(0) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + lines.count * 2)
        for line in lines {
            out.append(contentsOf: needsQuoting ? quotedPrintable(line) : line)
            out.append(contentsOf: crlf)
        }
        return (out, needsQuoting ? "quoted-printable" : "8bit")
    }

    /// One line in RFC 2045 quoted-printable, with soft line breaks keeping every output line within 76 characters.
    private static func quotedPrintable(_ line: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var column = 0
        for (index, byte) in line.enumerated() {
            let isLast = index == line.count - 1
            let literal =
                (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                || ((byte == 32 || byte == 9) && !isLast)
            let token: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            // Leave room for the soft break's "=" unless this token ends the line.
            let limit = isLast ? 76 : 75
            if column + token.count > limit {
                out.append(contentsOf: [UInt8(ascii: "=")] + crlf)
                column = 0
            }
            out.append(contentsOf: token)
            column += token.count
        }
        return out
    }
}
