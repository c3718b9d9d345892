import Foundation
import Glibc
import Logging
import PorteroTestSupport
import Testing

@testable import Systemd

struct SampleError: Error, CustomStringConvertible {
    var description: String { "disk\nfull" }
}

@Suite("JournalLogHandler")
struct JournalLogHandlerTests {
    private func logger(
        _ format: JournalLogHandler.Format,
        level: Logger.Level = .trace,
        journal: JournalSender = .libsystemd,
        provider: Logger.MetadataProvider? = nil
    ) -> (Logger, Recorder<String>) {
        let recorder = Recorder<String>()
        let output = LineOutput { recorder.append($0) }
        let logger = Logger(label: "portero") { label in
            JournalLogHandler(
                label: label,
                format: format,
                identifier: "portero",
                logLevel: level,
                metadataProvider: provider,
                output: output,
                journal: journal
            )
        }
        return (logger, recorder)
    }

    // MARK: - text

    @Test func textIsOneEscapedLinePerEntry() throws {
        let (logger, lines) = logger(.text)
        logger.info(
            "user\nregistered\r\u{1B}[31m\u{2028}",
            metadata: [
                "user_id": "u_123",
                "note": "two words",
                "evil": "a\r\nb\"c\\d",
                "empty": "",
                "list": ["a", "b"],
            ]
        )

        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1)
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}") && !line.contains("\u{2028}"))
        let prefix = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info portero: /#
        #expect(line.firstMatch(of: prefix) != nil)
        let expected =
            #"portero: user\nregistered\r\u001B[31m\u2028 empty="" evil="a\r\nb\"c\\d" "#
            + #"list="[\"a\", \"b\"]" note="two words" user_id=u_123"#
        #expect(line.hasSuffix(expected))
    }

    @Test func textTimestampIsUTCWithMilliseconds() {
        #expect(LogTimestamp(seconds: 1_795_447_800, nanoseconds: 123_999_999).iso8601 == "2026-11-23T15:30:00.123Z")
        #expect(LogTimestamp(seconds: 0, nanoseconds: 5_000_000).iso8601 == "1970-01-01T00:00:00.005Z")
    }

    @Test func levelsAndMetadataFollowTheLogHandlerContract() throws {
        let provider = Logger.MetadataProvider { ["request_id": "from-provider", "trace": "t1"] }
        var (logger, lines) = logger(.text, level: .notice, provider: provider)
        logger[metadataKey: "request_id"] = "from-handler"
        logger[metadataKey: "component"] = "store"

        logger.info("dropped")
        logger.warning("kept", metadata: ["trace": "explicit"])

        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1)
        #expect(line.contains(" warning portero: kept component=store request_id=from-provider trace=explicit"))
        #expect(logger.logLevel == .notice)
        #expect(logger[metadataKey: "component"] == "store")
    }

    @Test func errorsBecomeMetadata() throws {
        let (logger, lines) = logger(.text)
        logger.error("write failed", error: SampleError())
        let line = try #require(lines.all.first)
        #expect(line.contains(#"error.message="disk\nfull" error.type=SystemdTests.SampleError"#))
    }

    // MARK: - JSON

    @Test func jsonIsOneParsableObjectPerLine() throws {
        let (logger, lines) = logger(.json)
        logger.warning(
            "login\nfailed \"quoted\" \u{0}\u{7F}\u{2029}",
            metadata: [
                "event": "login.failed",
                "remote_addr": "127.0.0.1",
                "message": "collides",
                "nested": ["roles": ["admin", "user"], "n": "\(3)"],
            ]
        )
        logger.debug("second")

        #expect(lines.all.count == 2)
        for line in lines.all {
            #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{2029}"))
        }
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(lines.all[0].utf8)) as? [String: Any]
        )
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "portero")
        #expect(object["message"] as? String == "login\nfailed \"quoted\" \u{0}\u{7F}\u{2029}")
        #expect(object["event"] as? String == "login.failed")
        #expect(object["remote_addr"] as? String == "127.0.0.1")
        #expect(object["metadata.message"] as? String == "collides")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["roles"] as? [String] == ["admin", "user"])
        #expect(nested["n"] as? String == "3")
        let time = try #require(object["time"] as? String)
        #expect(time.firstMatch(of: #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/#) != nil)

        let second = try #require(
            try JSONSerialization.jsonObject(with: Data(lines.all[1].utf8)) as? [String: Any]
        )
        #expect(second["message"] as? String == "second")
        #expect(second["level"] as? String == "debug")
    }

    // MARK: - journal

    @Test func journalFieldsMapAndSanitizeNames() {
        let entry = LogEntry(
            time: LogTimestamp(seconds: 0, nanoseconds: 0),
            level: .warning,
            label: "portero.http",
            message: "login\nfailed",
            metadata: [
                "event": "login.failed",
                "user_id": "u1",
                "email_hash": "ab12",
                "remote_addr": "10.0.0.1",
                "request_id": "r-9",
                "foo_bar": "1",
                "foo.baz": "2",
                "kebab-case": "3",
                "ünï": "4",
            ],
            file: "PorteroHTTP/LoginController.swift",
            function: "login(request:context:)",
            line: 42
        )
        let fields = JournalLogHandler.journalFields(entry, identifier: "portero")
        let pairs = fields.map { "\($0.name)=\($0.value)" }
        #expect(
            pairs == [
                "MESSAGE=login\nfailed",
                "PRIORITY=4",
                "SYSLOG_IDENTIFIER=portero",
                "CODE_FILE=PorteroHTTP/LoginController.swift",
                "CODE_LINE=42",
                "CODE_FUNC=login(request:context:)",
                "PORTERO_LOGGER=portero.http",
                "PORTERO_EMAIL_HASH=ab12",
                "PORTERO_EVENT=login.failed",
                "PORTERO_FOO_BAZ=2",
                "PORTERO_FOO_BAR=1",
                "PORTERO_KEBAB_CASE=3",
                "REMOTE_ADDR=10.0.0.1",
                "REQUEST_ID=r-9",
                "PORTERO_USER_ID=u1",
                "PORTERO__N_=4",
            ]
        )
        for field in fields {
            #expect(field.name.count <= 64)
            #expect(field.name.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") })
            #expect(!field.name.hasPrefix("_"))
        }
    }

    @Test func fieldNameSanitizing() {
        #expect(JournalLogHandler.sanitizedFieldName("_private") == "PRIVATE")
        #expect(JournalLogHandler.sanitizedFieldName("9lives") == "LIVES")
        #expect(JournalLogHandler.sanitizedFieldName("___") == nil)
        #expect(JournalLogHandler.sanitizedFieldName("") == nil)
        #expect(JournalLogHandler.sanitizedFieldName("a b=c") == "A_B_C")
        let long = JournalLogHandler.journalFieldName(forMetadataKey: String(repeating: "x", count: 100))
        #expect(long.count == 64)
        #expect(long.hasPrefix("PORTERO_XXX"))
    }

    @Test(
        "syslog priorities",
        arguments: [
            (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3),
            (.critical, 2),
        ]
    )
    func priorities(level: Logger.Level, priority: Int) {
        #expect(JournalLogHandler.syslogPriority(level) == priority)
    }

    @Test func journalEntriesGoToTheJournalWhenItAccepts() throws {
        let sent = Recorder<[JournalField]>()
        let (logger, lines) = logger(
            .journal,
            journal: JournalSender { fields in
                sent.append(fields)
                return 0
            }
        )
        logger.notice("store loaded", metadata: ["event": "store.loaded"])

        #expect(lines.all.isEmpty)
        let fields = try #require(sent.all.first)
        #expect(fields.contains(JournalField(name: "PRIORITY", value: "5")))
        #expect(fields.contains(JournalField(name: "PORTERO_EVENT", value: "store.loaded")))
    }

    @Test func journalFailureFallsBackToTextLine() throws {
        let (logger, lines) = logger(.journal, journal: JournalSender { _ in -ENOENT })
        logger.error("mail failed", metadata: ["event": "mail.failed"])

        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1)
        #expect(line.hasSuffix(" error portero: mail failed event=mail.failed"))
    }

    @Test func realLibsystemdWithoutJournalSocketFallsBack() {
        let (logger, lines) = logger(.journal)
        logger.info("hello journal", metadata: ["event": "test.journal", "multi": "line\none"])

        if access("/run/systemd/journal/socket", F_OK) != 0 {
            #expect(lines.all.count == 1)
            #expect(lines.all.first?.hasSuffix(#"hello journal event=test.journal multi="line\none""#) == true)
        } else {
            #expect(lines.all.count <= 1)
        }
    }

    @Test func publicSinkInitializerWritesLines() {
        let recorder = Recorder<String>()
        var handler = JournalLogHandler(label: "portero", format: .text) { recorder.append($0) }
        handler.logLevel = .debug
        let logger = Logger(label: "portero") { _ in handler }
        logger.debug("visible")
        logger.trace("hidden")
        #expect(recorder.all.count == 1)
        #expect(recorder.all.first?.hasSuffix(" debug portero: visible") == true)
    }

    @Test func defaultFormatFollowsJournalStream() {
        #expect(JournalLogHandler.Format.default(environment: ["JOURNAL_STREAM": "8:123456"]) == .journal)
        #expect(JournalLogHandler.Format.default(environment: ["JOURNAL_STREAM": ""]) == .text)
        #expect(JournalLogHandler.Format.default(environment: [:]) == .text)
    }
}
