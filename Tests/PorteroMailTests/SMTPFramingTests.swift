import Testing

@testable import PorteroMail

@Suite("SMTP framing")
struct SMTPFramingTests {
    @Test("DATA is dot-stuffed and ends with the lone dot line")
    func dotStuffing() {
        let message = Array("Subject: x\r\n\r\n.hidden\r\nok\r\n..two\r\n".utf8)
        #expect(
            String(decoding: SMTPMailer.dotStuffed(message), as: UTF8.self)
                == "Subject: x\r\n\r\n..hidden\r\nok\r\n...two\r\n.\r\n")
        #expect(
            String(decoding: SMTPMailer.dotStuffed(Array("no final newline".utf8)), as: UTF8.self)
                == "no final newline\r\n.\r\n")
    }

    @Test("the envelope sender is the address inside From")
    func envelopeSender() {
        #expect(SMTPMailer.address(in: "Portero <auth@example.org>") == "auth@example.org")
        #expect(SMTPMailer.address(in: " auth@example.org ") == "auth@example.org")
    }

    @Test("only the enhanced status code of a reply is kept for logs, never its free text")
    func replySummary() {
        #expect(SMTPReply(code: 550, lines: ["5.1.1 <bob@example.org>: user unknown"]).summary == "550 5.1.1")
        #expect(SMTPReply(code: 421, lines: ["closing <bob@example.org>"]).summary == "421")
    }
}
