import Foundation
import PorteroCore
import PorteroMail
import PorteroTestSupport
import Testing

@Suite("Maildir transport")
struct MaildirMailerTests {
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    static func entries(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    @Test func deliveryLandsInNewWithMode0600() async throws {
        let directory = try TestDirectory("maildir")
        defer { directory.remove() }
        let maildir = directory.file("mail")
        let mailer = MaildirMailer(
            directory: maildir, from: "Portero <portero@host.example>",
            hostname: "host.example")
        let message = MailTemplates.verification(code: "012345", to: "alice@example.test")

        try await mailer.deliver(message)

        for sub in ["", "/tmp", "/new", "/cur"] {
            #expect(try Self.mode(maildir + sub) == 0o700, "mode of \(maildir + sub)")
        }
        #expect(try Self.entries(maildir + "/tmp").isEmpty)
        #expect(try Self.entries(maildir + "/cur").isEmpty)
        let names = try Self.entries(maildir + "/new")
        try #require(names.count == 1)
        let name = names[0]
        #expect(name.wholeMatch(of: /[0-9]+\.[0-9]+_[0-9]+\.host\.example/) != nil, "name \(name)")
        let path = maildir + "/new/" + name
        #expect(try Self.mode(path) == 0o600)

        // The file parses: LF-terminated header fields, an empty line, the body.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("\r"))
        let parts = text.components(separatedBy: "\n\n")
        try #require(parts.count >= 2)
        var headers: [String: String] = [:]
        for line in parts[0].components(separatedBy: "\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            try #require(pair.count == 2, "header line \(line)")
            headers[String(pair[0])] = pair[1].trimmingCharacters(in: .whitespaces)
        }
        #expect(headers["To"] == "alice@example.test")
        #expect(headers["From"] == "Portero <portero@host.example>")
        #expect(headers["Subject"] == message.subject)
        #expect(headers["Message-ID"] == "<\(message.id.uuidString.lowercased())@host.example>")
        #expect(headers["Auto-Submitted"] == "auto-generated")
        #expect(headers["Content-Type"] == "text/plain; charset=UTF-8")
        #expect(headers["Date"]?.hasSuffix("+0000") == true)
        let body = parts.dropFirst().joined(separator: "\n\n")
        #expect(body == message.text)
    }

    @Test func twoDeliveriesGetDistinctNames() async throws {
        let directory = try TestDirectory("maildir")
        defer { directory.remove() }
        let fixed = Date(timeIntervalSince1970: 1_751_360_703)
        let mailer = MaildirMailer(directory: directory.path, from: "portero@host.example", currentDate: { fixed })
        let first = MailTemplates.verification(code: "111111", to: "a@example.test")
        let second = MailTemplates.passwordReset(code: "222222", to: "b@example.test")

        try await mailer.deliver(first)
        try await mailer.deliver(second)

        let names = try Self.entries(directory.path + "/new")
        #expect(names.count == 2)
        #expect(Set(names).count == 2)
        #expect(names.allSatisfy { $0.hasPrefix("1751360703.") })
        let bodies = try names.map { try String(contentsOfFile: directory.path + "/new/" + $0, encoding: .utf8) }
        #expect(bodies.contains { $0.contains("111111") } && bodies.contains { $0.contains("222222") })
        #expect(try Self.entries(directory.path + "/tmp").isEmpty)
    }

    @Test func anUnusableDirectoryIsAnIOError() async throws {
        let directory = try TestDirectory("maildir")
        defer { directory.remove() }
        let blocker = try directory.write("not-a-directory", "x")
        let mailer = MaildirMailer(directory: blocker + "/mail", from: "portero@host.example")
        let message = MailTemplates.verification(code: "012345", to: "a@example.test")

        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        #expect(error?.code == .io)
        #expect(error?.description.contains("012345") == false)
    }

    @Test func headerInjectionIsRefusedBeforeAnythingIsWritten() async throws {
        let directory = try TestDirectory("maildir")
        defer { directory.remove() }
        let mailer = MaildirMailer(directory: directory.file("mail"), from: "portero@host.example")
        let message = MailTemplates.verification(code: "012345", to: "a@x.test\r\nBcc: b@x.test")

        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        #expect(error?.code == .invalidHeader)
        #expect(!FileManager.default.fileExists(atPath: directory.file("mail")))
    }
}
