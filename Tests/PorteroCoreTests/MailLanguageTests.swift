import Foundation
import PorteroCore
import PorteroStore
import PorteroTestSupport
import Testing

/// The account's language: validated, asked for at registration or taken from `Accept-Language`, kept on the user
/// record (old records without it still load), and given to the mail templates with every message's facts.
@Suite("Use cases: the language of an account's mail")
struct MailLanguageTests {
    /// A composer that writes the facts it was given into the text, and speaks `en` and `es`.
    static let recording = MailComposer(speaks: { ["en", "es"].contains($0) }) { facts in
        ComposedMail(
            subject: facts.kind.rawValue,
            text: "\(facts.locale ?? "-")|\(facts.code ?? "-")|\(facts.lifetime?.seconds ?? 0)|\(facts.name ?? "-")",
            html: facts.locale == "es" ? "<p>es</p>" : nil)
    }

    static func register(
        _ harness: AuthHarness, _ address: String, locale: String? = nil, accepted: [String] = []
    ) async throws -> User {
        var budget = RateBudget.unlimited(.register)
        return try await harness.auth.register(
            email: try harness.email(address), password: try harness.auth.newPassword("correct horse battery"),
            profile: ProfileFields.validate(name: "Ana", phone: nil).fields,
            locale: locale.flatMap(LanguageTag.init), accepted: accepted.compactMap(LanguageTag.init),
            caller: harness.caller(), budget: &budget
        ).user
    }

    static func newestMail(_ harness: AuthHarness, to address: String) async -> OutboxMail? {
        await harness.store.state.outbox.values.filter { $0.to == address }.max { $0.queuedAt < $1.queuedAt }
    }

    @Test(
        "well-formed tags are kept in canonical case",
        arguments: [
            ("en", "en"), ("ES", "es"), ("pt-br", "pt-BR"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419"),
            ("de-DE-1996", "de-DE-1996"), ("sl-rozaj", "sl-rozaj"),
        ])
    func wellFormed(_ raw: String, _ canonical: String) {
        #expect(LanguageTag(raw)?.value == canonical)
    }

    @Test(
        "anything else is refused",
        arguments: [
            "", "e", "english", "en_US", "en-", "-en", "x-private", "en-u-ca-gregory", "es\r\nBcc: x", "a1",
            "en--US", " es", "es ", "es-" + String(repeating: "a", count: 40), "español",
        ])
    func refused(_ raw: String) {
        #expect(LanguageTag(raw) == nil)
    }

    @Test("the locale asked for is kept and every message of the account is composed in it")
    func requested() async throws {
        let harness = try await AuthHarness(mail: Self.recording)
        let user = try await Self.register(harness, "ana@example.com", locale: "es", accepted: ["fr"])
        #expect(user.locale == "es")
        #expect(await harness.store.state.user(id: user.id)?.locale == "es")
        let mail = try #require(await Self.newestMail(harness, to: "ana@example.com"))
        let code = try #require(mail.code)
        #expect(mail.text == "es|\(code)|900|Ana")
        #expect(mail.html == "<p>es</p>")
        var budget = RateBudget.unlimited(.resend)
        harness.clock.advance(by: 1)
        _ = try await harness.auth.resendVerification(
            .email(try harness.email("ana@example.com")), caller: harness.caller(), budget: &budget)
        #expect(await Self.newestMail(harness, to: "ana@example.com")?.text.hasPrefix("es|") == true)
    }

    @Test(
        "without a locale, the first Accept-Language tag the templates speak, else the first, else none",
        arguments: [
            (["fr-CH", "fr", "es-MX", "en"], "es-MX"), (["de"], "de"), (["en-GB", "es"], "en-GB"),
            ([String](), nil as String?),
        ])
    func accepted(_ accepted: [String], _ expected: String?) async throws {
        let harness = try await AuthHarness(mail: Self.recording)
        let user = try await Self.register(harness, "bo@example.com", accepted: accepted)
        #expect(user.locale == expected)
        #expect(await Self.newestMail(harness, to: "bo@example.com")?.text.hasPrefix("\(expected ?? "-")|") == true)
    }

    @Test("registering an unverified address over takes the new locale")
    func startedOver() async throws {
        let harness = try await AuthHarness(mail: Self.recording)
        _ = try await Self.register(harness, "cy@example.com", locale: "en")
        let again = try await Self.register(harness, "cy@example.com", locale: "es")
        #expect(await harness.store.state.user(id: again.id)?.locale == "es")
    }

    @Test("a user record and a queued mail written before locale and html existed still load")
    func oldRecords() throws {
        let user = """
            {"created_at":"2026-01-01T00:00:00.000Z","email":"a@b.test","email_key":"a@b.test","email_verified":true,\
            "id":"3f0c2a4e-1b2c-4d5e-8f90-123456789abc","password_hash":"$argon2id$x","roles":["user"],\
            "updated_at":"2026-01-01T00:00:00.000Z"}
            """
        let decoded = try RecordCoding.decoder.decode(User.self, from: Data(user.utf8))
        #expect(decoded.locale == nil)
        let mail = """
            {"id":"3f0c2a4e-1b2c-4d5e-8f90-123456789abc","kind":"verify_email","queued_at":"2026-01-01T00:00:00.000Z",\
            "subject":"s","text":"t","to":"a@b.test"}
            """
        #expect(try RecordCoding.decoder.decode(OutboxMail.self, from: Data(mail.utf8)).html == nil)
        // And a new one round-trips, without an html key when there is none.
        var withLocale = decoded
        withLocale.locale = "pt-BR"
        let encoded = try RecordCoding.encoder.encode(withLocale)
        #expect(String(decoding: encoded, as: UTF8.self).contains(#""locale":"pt-BR""#))
        #expect(try RecordCoding.decoder.decode(User.self, from: encoded) == withLocale)
        let plain = try RecordCoding.decoder.decode(OutboxMail.self, from: Data(mail.utf8))
        #expect(!String(decoding: try RecordCoding.encoder.encode(plain), as: UTF8.self).contains("html"))
    }
}
