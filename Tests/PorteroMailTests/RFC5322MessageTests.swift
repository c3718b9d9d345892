import Foundation
import PorteroCore
import PorteroMail
import PorteroTestSupport
import Testing

@Suite("RFC 5322 message")
struct RFC5322MessageTests {
    static let id = UUID(uuidString: "3F2504E0-4F89-11D3-9A0C-0305E82C3301")!
    static let date = Date(timeIntervalSince1970: 1_751_360_703)

    static func message(
        to: String = "alice@example.test", subject: String = "Verify your email address",
        text: String = "Your code is 012345.\n"
    ) -> OutboxMail {
        OutboxMail(id: id, to: to, subject: subject, text: text, kind: "verify_email", code: "012345", queuedAt: Date())
    }

    static func build(_ message: OutboxMail, from: String = "Portero <portero@mail.example>") throws
        -> RFC5322Message
    {
        try RFC5322Message(message, from: from, date: date, messageIDDomain: "host.example")
    }

    @Test func headersArePresentInOrder() throws {
        let built = try Self.build(Self.message())
        #expect(
            built.fields.map(\.name) == [
                "Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type",
                "Content-Transfer-Encoding", "Auto-Submitted",
            ])
        #expect(built.field("date") == "Tue, 01 Jul 2025 09:05:03 +0000")
        #expect(built.field("From") == "Portero <portero@mail.example>")
        #expect(built.field("To") == "alice@example.test")
        #expect(built.field("Subject") == "Verify your email address")
        #expect(built.field("Message-ID") == "<3f2504e0-4f89-11d3-9a0c-0305e82c3301@host.example>")
        #expect(built.field("MIME-Version") == "1.0")
        #expect(built.field("Content-Type") == "text/plain; charset=UTF-8")
        #expect(built.field("Content-Transfer-Encoding") == "8bit")
        #expect(built.field("Auto-Submitted") == "auto-generated")
    }

    @Test func epochDateIsFormatted() throws {
        let built = try RFC5322Message(
            Self.message(), from: "a@b", date: Date(timeIntervalSince1970: 0),
            messageIDDomain: "h")
        #expect(built.field("Date") == "Thu, 01 Jan 1970 00:00:00 +0000")
    }

    @Test func linesEndInCRLFAndTheBodyFollowsAnEmptyLine() throws {
        let built = try Self.build(Self.message(text: "line one\nline two\r\nline three\rlast"))
        let bytes = built.bytes()
        for (index, byte) in bytes.enumerated() where byte == 10 {
            #expect(index > 0 && bytes[index - 1] == 13, "bare LF at \(index)")
        }
        for (index, byte) in bytes.enumerated() where byte == 13 {
            #expect(index + 1 < bytes.count && bytes[index + 1] == 10, "bare CR at \(index)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasSuffix("\r\n\r\nline one\r\nline two\r\nline three\r\nlast\r\n"))
        #expect(text.components(separatedBy: "\r\n\r\n").count == 2)
        #expect(built.data == Data(bytes))
    }

    @Test func lfRenderingHasNoCarriageReturn() throws {
        let bytes = try Self.build(Self.message(subject: "Vérifiez votre adresse électronique, s’il vous plaît, merci"))
            .bytes(lineEnding: .lf)
        #expect(!bytes.contains(13))
        #expect(String(decoding: bytes, as: UTF8.self).contains("\n\nYour code is 012345.\n"))
    }

    @Test(arguments: [
        "Vérifiez votre adresse",
        "Código de verificación: restablecer la contraseña de tu cuenta, válido durante quince minutos",
        "確認コード 🔐 パスワードをリセットするためのコードです。有効期限は十五分です。",
        String(repeating: "A long plain ASCII subject ", count: 5),
        "Looks like =?an encoded word?=",
    ])
    func subjectsAreEncodedWordsWhenNeeded(subject: String) throws {
        let value = try #require(try Self.build(Self.message(subject: subject)).field("Subject"))
        let lines = value.components(separatedBy: "\r\n")
        for (index, line) in lines.enumerated() {
            #expect(("Subject: ".count + line.count) <= 78 || index > 0 && line.count <= 78)
            let word = index == 0 ? line : String(line.dropFirst())
            #expect(index == 0 || line.hasPrefix(" "))
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            #expect(word.count <= 75)
        }
        #expect(Self.decodeEncodedWords(value) == subject)
    }

    @Test func shortASCIISubjectIsKeptAsIs() throws {
        #expect(try Self.build(Self.message(subject: "Reset your password")).field("Subject") == "Reset your password")
    }

    @Test(arguments: [
        ("To", "alice@example.test\r\nBcc: mallory@example.test"),
        ("To", "alice@example.test\nBcc: mallory@example.test"),
        ("To", "alice@example.test\0"),
        ("To", "alice\t@example.test"),
        ("To", ""),
        ("Subject", "Hello\r\nBcc: mallory@example.test"),
        ("Subject", "Hello\rthere"),
        ("Subject", "Hello\0"),
        ("From", "portero@example.test\nX-Evil: 1"),
    ])
    func headerInjectionIsRefused(field: String, value: String) {
        var message = Self.message()
        var from = "portero@example.test"
        switch field {
        case "To": message.to = value
        case "Subject": message.subject = value
        default: from = value
        }
        let error = #expect(throws: MailError.self) { try Self.build(message, from: from) }
        #expect(error?.code == .invalidHeader)
        #expect(error?.description.contains(field) == true)
    }

    @Test func invalidMessageIDDomainIsRefused() {
        let error = #expect(throws: MailError.self) {
            try RFC5322Message(Self.message(), from: "a@b", date: Self.date, messageIDDomain: "bad host>")
        }
        #expect(error?.code == .invalidHeader)
    }

    @Test func longLinesAreQuotedPrintable() throws {
        let long = String(repeating: "é0123456789 = ", count: 100)
        let built = try Self.build(Self.message(text: "Code 012345\n\(long)\n"))
        #expect(built.field("Content-Transfer-Encoding") == "quoted-printable")
        let body = String(decoding: built.body, as: UTF8.self)
        for line in body.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
        }
        #expect(Self.decodeQuotedPrintable(body) == "Code 012345\r\n\(long)\r\n")
    }

    // MARK: - Decoders for the checks

    static func decodeEncodedWords(_ value: String) -> String? {
        var bytes: [UInt8] = []
        for word in value.components(separatedBy: "\r\n ") {
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?=") else { return nil }
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            guard let data = Data(base64Encoded: String(payload)) else { return nil }
            bytes += data
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    static func decodeQuotedPrintable(_ text: String) -> String? {
        var out: [UInt8] = []
        let bytes = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 2 < bytes.count,
                let value = UInt8(String(decoding: bytes[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                out.append(value)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(bytes: out, encoding: .utf8)
    }
}

@Suite("Mail templates")
struct MailTemplatesTests {
    @Test func verificationSaysWhatTheCodeIsForAndHowLongItLasts() {
        let user = UUID()
        let message = MailTemplates.verification(code: "012345", to: "a@b.test", userID: user)
        #expect(message.kind == "verify_email")
        #expect(message.code == "012345")
        #expect(message.userID == user)
        #expect(message.to == "a@b.test")
        #expect(message.text.contains("verification code is 012345"))
        #expect(message.text.contains("expires in 15 minutes"))
        #expect(message.text.contains("If you did not ask for it, ignore this message."))
        #expect(!message.subject.contains("012345"))
    }

    @Test func passwordResetSaysWhatTheCodeIsForAndHowLongItLasts() {
        let message = MailTemplates.passwordReset(code: "987654", ttl: TimeSpan(seconds: 3600), to: "a@b.test")
        #expect(message.kind == "reset_password")
        #expect(message.code == "987654")
        #expect(message.userID == nil)
        #expect(message.text.contains("password reset code is 987654"))
        #expect(message.text.contains("expires in 1 hour"))
        #expect(message.text.contains("ignore this message"))
        #expect(!message.subject.contains("987654"))
    }
}
