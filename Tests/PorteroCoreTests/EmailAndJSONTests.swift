import PorteroCore
import Testing

@Suite("Email and JSON")
struct EmailAndJSONTests {
    @Test("emails are trimmed, compared by ASCII case only")
    func emails() throws {
        let email = try Email(validating: "  Ada@Example.COM ")
        #expect(email.address == "Ada@Example.COM")
        #expect(email.key == "ada@example.com")
        #expect(try Email(validating: "\u{212A}@example.com").key != "k@example.com")
        #expect(try Email(validating: "stra\u{DF}e@example.com").key != "strasse@example.com")
        for bad in ["", "plain", "a@b", "a b@example.com", "a@@example.com", "a\n@example.com", ".a@example.com",
            "a..b@example.com", "<a@example.com>", String(repeating: "x", count: 65) + "@example.com"]
        {
            #expect(throws: EmailValidationFailure.self, "\(bad)") { _ = try Email(validating: bad) }
        }
    }

    @Test("the strict parser refuses what is ambiguous or hostile")
    func strictJSON() throws {
        let parser = StrictJSONParser()
        #expect(try parser.parse(Array(#"{"a":[1,2.5,-3e2,true,null,"\u00e9\ud83d\ude00"]}"#.utf8))
            == .object(["a": .array([.number(1), .number(2.5), .number(-300), .bool(true), .null, .string("é😀")])]))
        let refused: [[UInt8]] = [
            Array(#"{"a":1,"a":2}"#.utf8), Array(#"{"a":"\ud800"}"#.utf8), Array(#"{"a":"\udc00x"}"#.utf8),
            [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC0, 0xAF, 0x22, 0x7D], [0x22, 0xED, 0xA0, 0x80, 0x22],
            Array("{\"a\":\"\u{1}\"}".utf8), Array(#"{"a":1} x"#.utf8), Array(#"{'a':1}"#.utf8), Array("01".utf8),
            Array(String(repeating: "[", count: 10_000).utf8), Array(#"{"a":1e999}"#.utf8), [],
        ]
        for bytes in refused {
            #expect(throws: StrictJSONParser.Failure.self, "\(String(decoding: bytes, as: UTF8.self))") {
                _ = try parser.parse(bytes)
            }
        }
    }

    @Test("durations and rates of SPEC §2")
    func durations() {
        #expect(TimeSpan(parsing: "3s")?.seconds == 3)
        #expect(TimeSpan(parsing: "15m")?.seconds == 900)
        #expect(TimeSpan(parsing: "30d")?.seconds == 2_592_000)
        for bad in ["", "s", "5", "5x", "-5m", "1.5h", " 5m"] { #expect(TimeSpan(parsing: bad) == nil, "\(bad)") }
        #expect(RateLimit(parsing: "5/15m") == RateLimit(count: 5, window: TimeSpan(seconds: 900)))
        #expect(RateLimit(parsing: "0")?.isOff == true)
        for bad in ["5", "/1m", "5/", "0/1m", "5/0s", "a/1m"] { #expect(RateLimit(parsing: bad) == nil, "\(bad)") }
    }
}
