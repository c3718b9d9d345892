import Foundation
import PorteroTestSupport
import Testing

/// Mail templates through the binary: the account's language picks the built-in Spanish texts, override files in
/// `mail.templates` change a subject and add an HTML part, a reload with a broken file keeps the templates in force,
/// and a broken file at start-up refuses to start naming its file and line.
@Suite("Mail templates through the binary")
struct MailTemplateTests {
    typealias Client = AuthFlowTests.Client

    /// The decoded `Subject:` of a message (RFC 2047 encoded-words joined, folding removed).
    static func subject(of message: String) -> String? {
        let lines = message.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("Subject: ") }) else { return nil }
        var value = String(lines[start].dropFirst("Subject: ".count))
        for line in lines[(start + 1)...] {
            guard line.hasPrefix(" ") || line.hasPrefix("\t") else { break }
            value += line
        }
        let words = value.split(separator: " ")
        guard words.allSatisfy({ $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") }) else { return value }
        let bytes = words.flatMap { word -> [UInt8] in
            let base64 = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return Array(Data(base64Encoded: String(base64)) ?? Data())
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits for the `index`-th message to `address` in the daemon's Maildir.
    static func message(to address: String, in daemon: PorteroProcess, index: Int = 0) async throws -> String {
        let maildir = daemon.dataDirectory + "/mail"
        #expect(
            await waitUntil(timeout: .seconds(20)) { MaildirReader.messages(in: maildir, to: address).count > index })
        let messages = MaildirReader.messages(in: maildir, to: address)
        guard messages.count > index else { throw TestClientError("no message \(index) to \(address)") }
        return messages[index]
    }

    @Test("locale es, or Accept-Language, gives Spanish mail; none gives English; a bad tag is 400")
    func languageOfTheAccount() async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let ana = try await client.post(
                "/register", ["email": "ana@example.com", "password": "correct horse battery", "locale": "es"])
            #expect(ana.status == 201)
            #expect((ana.json?["user"] as? [String: Any])?["locale"] as? String == "es")
            let spanish = try await Self.message(to: "ana@example.com", in: daemon)
            #expect(Self.subject(of: spanish) == "Verifica tu dirección de correo")
            #expect(spanish.contains("Tu código de verificación de Portero es "))
            #expect(spanish.contains("Caduca en 15 minutos."))
            let code = try #require(MaildirReader.code(in: spanish))
            #expect(try await client.post("/verify-email", ["email": "ana@example.com", "code": code]).status == 200)

            let bruno = try await HTTPTestClient.request(
                "POST", AuthFlowTests.base + "/register", to: try daemon.tcp,
                headers: ["Accept-Language": "fr-CH, fr;q=0.9, es-MX;q=0.8, en;q=0.5"],
                json: ["email": "bruno@example.com", "password": "correct horse battery"])
            #expect(bruno.status == 201)
            #expect((bruno.json?["user"] as? [String: Any])?["locale"] as? String == "es-MX")
            #expect(
                Self.subject(of: try await Self.message(to: "bruno@example.com", in: daemon))
                    == "Verifica tu dirección de correo")

            let carl = try await client.post(
                "/register", ["email": "carl@example.com", "password": "correct horse battery"])
            #expect((carl.json?["user"] as? [String: Any])?["locale"] is NSNull)
            #expect(
                Self.subject(of: try await Self.message(to: "carl@example.com", in: daemon))
                    == "Verify your email address")

            let bad = try await client.post(
                "/register", ["email": "dora@example.com", "password": "correct horse battery", "locale": "es\r\nX: y"])
            #expect(bad.status == 400)
            #expect(bad.json?["error"] as? String == "validation_error")
            #expect(bad.text.contains("locale"))
        }
    }

    @Test(
        "override files change the subject, add an escaped HTML part and the sign-in page; a broken reload keeps them")
    func overridesAndReload() async throws {
        let daemon = try PorteroProcess(
            arguments: ["--mail-from", "Acme <auth@acme.test>", "--cookie-enabled", "true", "--cookie-secure", "false"])
        defer { daemon.directory.remove() }
        let templates = daemon.directory.file("templates")
        try FileManager.default.createDirectory(atPath: templates, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: templates + "/" + name))
        }
        try write("verify_email.en.subject.mustache", "Your {{app_name}} code\n")
        try write("verify_email.en.html.mustache", "<p>Hello {{name}}, your code is <b>{{code}}</b>.</p>\n")
        try write(
            "signin.html.mustache",
            "<!doctype html><title>{{title}}</title><h1>Acme sign-in</h1>{{#form}}<form method=\"post\" action=\"/signin\"><input name=\"email\" value=\"{{email}}\"></form>{{/form}}\n"
        )
        try await daemon.startAndWait()
        do {
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            #expect(
                try await client.post(
                    "/register",
                    ["email": "eve@example.com", "password": "correct horse battery", "name": "<script>x</script>"]
                ).status == 201)
            let message = try await Self.message(to: "eve@example.com", in: daemon)
            #expect(Self.subject(of: message) == "Your Acme code")
            #expect(message.contains("Content-Type: multipart/alternative; boundary="))
            #expect(message.contains("Content-Type: text/plain; charset=UTF-8"))
            #expect(message.contains("Content-Type: text/html; charset=UTF-8"))
            #expect(message.contains("Hello &lt;script&gt;x&lt;/script&gt;, your code is <b>"))
            #expect(!message.contains("<script>"))
            #expect(message.contains("Your Acme verification code is "))

            let page = try await HTTPTestClient.request("GET", "/signin", to: try daemon.tcp)
            #expect(page.status == 200)
            #expect(page.text.contains("<h1>Acme sign-in</h1>"))
            #expect(page["Content-Security-Policy"]?.hasPrefix("default-src 'none'") == true)

            // A broken file: the reload is refused naming it, and the templates in force stay.
            try write("verify_email.en.txt.mustache", "Code: {{code}}\n{{#name}}Hi{{/code}}\n")
            daemon.signal(SIGHUP)
            #expect(
                await waitUntil(timeout: .seconds(20)) {
                    !OutboxTests.events("config.reload_failed", in: daemon).isEmpty
                })
            let refused = try #require(OutboxTests.events("config.reload_failed", in: daemon).first)
            #expect(
                (refused["reason"] as? String)?.contains("verify_email.en.txt.mustache line 2") == true, "\(refused)")
            #expect(try await client.post("/resend-verification", ["email": "eve@example.com"]).status == 200)
            #expect(
                Self.subject(of: try await Self.message(to: "eve@example.com", in: daemon, index: 1))
                    == "Your Acme code")

            // Mended and changed: the next reload applies at once.
            try FileManager.default.removeItem(atPath: templates + "/verify_email.en.txt.mustache")
            try write("verify_email.en.subject.mustache", "{{app_name}}: confirm {{email}}\r\nBcc: evil@example.com\n")
            daemon.signal(SIGHUP)
            #expect(
                await waitUntil(timeout: .seconds(20)) { OutboxTests.events("templates.loaded", in: daemon).count >= 2 }
            )
            #expect(try await client.post("/resend-verification", ["email": "eve@example.com"]).status == 200)
            let third = try await Self.message(to: "eve@example.com", in: daemon, index: 2)
            #expect(Self.subject(of: third) == "Acme: confirm eve@example.com Bcc: evil@example.com")
            #expect(!third.contains("\nBcc:"))
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }

    @Test("a template that does not parse refuses start-up with exit 78 and one line naming its file and line")
    func brokenOverrideRefusesStart() async throws {
        let daemon = try PorteroProcess()
        defer { daemon.directory.remove() }
        let templates = daemon.directory.file("templates")
        try FileManager.default.createDirectory(atPath: templates, withIntermediateDirectories: true)
        try Data("Hola {{name}}\n{{#code}}x{{/name}}\nfin\n".utf8).write(
            to: URL(fileURLWithPath: templates + "/verify_email.es.txt.mustache"))
        try daemon.start()
        #expect(try await daemon.waitForExit() == 78)
        let lines = daemon.stderrText.split(separator: "\n").filter { $0.hasPrefix("portero: ") }
        #expect(lines.count == 1, "\(daemon.stderrText)")
        #expect(lines.first?.contains("\(templates)/verify_email.es.txt.mustache line 2") == true, "\(lines)")
    }

    @Test("portero templates list and show print the built-in files, as an override takes them")
    func printsTheBuiltIns() async throws {
        let list = try await PorteroProcess.run(["templates", "list"])
        #expect(list.status == 0)
        let names = list.stdout.split(separator: "\n").map(String.init)
        for kind in ["verify_email", "reset_password", "password_changed", "invitation"] {
            for language in ["en", "es"] {
                #expect(names.contains("\(kind).\(language).subject.mustache"))
                #expect(names.contains("\(kind).\(language).txt.mustache"))
            }
        }
        #expect(names.contains("signin.html.mustache"))
        let subject = try await PorteroProcess.run(["templates", "show", "verify_email.es.subject.mustache"])
        #expect(subject.status == 0)
        #expect(subject.stdout == "Verifica tu dirección de correo")
        let unknown = try await PorteroProcess.run(["templates", "show", "../../etc/passwd"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no built-in template"))
    }
}
