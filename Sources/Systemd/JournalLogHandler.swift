public import Logging

/// A swift-log handler writing to journald natively, or one line per entry as text or JSON on stderr.
///
/// In the ``Format/journal`` format each entry becomes a journal entry with `MESSAGE`, `PRIORITY`,
/// `SYSLOG_IDENTIFIER`, `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` and one field per metadata key (see
/// ``journalFieldName(forMetadataKey:)``). When journald cannot be reached the entry is written in the
/// ``Format/text`` format instead, so nothing is lost and nothing traps.
///
/// ```swift
/// let format = JournalLogHandler.Format.default(environment: ProcessInfo.processInfo.environment)
/// LoggingSystem.bootstrap { label in JournalLogHandler(label: label, format: format) }
/// ```
public struct JournalLogHandler: LogHandler {
    /// How entries are written.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// Native journald fields through `sd_journal_sendv(3)`; text on the output when that fails.
        case journal
        /// One human-readable line per entry: `<time> <level> <label>: <message> key=value …`.
        case text
        /// One JSON object per line: `{"time":…,"level":…,"logger":…,"message":…, <metadata>…}`.
        case json

        /// ``journal`` when stderr is connected to journald (`JOURNAL_STREAM` is set), else ``text``.
        public static func `default`(environment: [String: String]) -> Format {
            if let stream = environment["JOURNAL_STREAM"], !stream.isEmpty {
                return .journal
            }
            return .text
        }
    }

    /// The logger's label, written as `<label>:` in text and `"logger"` in JSON.
    public let label: String
    /// How entries are written.
    public let format: Format
    /// The journal's `SYSLOG_IDENTIFIER`.
    public let identifier: String
    /// The lowest level written: ``RuntimeLogLevel/current`` when that is set, else the handler's own.
    public var logLevel: Logger.Level {
        get { RuntimeLogLevel.current ?? ownLogLevel }
        set { ownLogLevel = newValue }
    }
    private var ownLogLevel: Logger.Level
    /// Metadata attached to every entry of this handler.
    public var metadata: Logger.Metadata = [:]
    /// Supplies contextual metadata (for example task-local request ids) for every entry.
    public var metadataProvider: Logger.MetadataProvider?

    let output: LineOutput
    let journal: JournalSender

    /// Creates a handler writing lines to stderr (and to journald in the ``Format/journal`` format).
    ///
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - format: How entries are written.
    ///   - identifier: The journal's `SYSLOG_IDENTIFIER`.
    ///   - logLevel: The lowest level written.
    ///   - metadataProvider: Supplies contextual metadata for every entry.
    public init(
        label: String,
        format: Format,
        identifier: String = "portero",
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.init(
            label: label,
            format: format,
            identifier: identifier,
            logLevel: logLevel,
            metadataProvider: metadataProvider,
            output: .standardError,
            journal: .libsystemd
        )
    }

    /// Creates a handler handing each line, without its newline, to `output` instead of stderr.
    ///
    /// Calls to `output` are serialized. In the ``Format/journal`` format `output` only receives the entries
    /// journald did not accept.
    public init(
        label: String,
        format: Format,
        identifier: String = "portero",
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil,
        output: @escaping @Sendable (String) -> Void
    ) {
        self.init(
            label: label,
            format: format,
            identifier: identifier,
            logLevel: logLevel,
            metadataProvider: metadataProvider,
            output: LineOutput(output),
            journal: .libsystemd
        )
    }

    init(
        label: String,
        format: Format,
        identifier: String,
        logLevel: Logger.Level,
        metadataProvider: Logger.MetadataProvider?,
        output: LineOutput,
        journal: JournalSender
    ) {
        self.label = label
        self.format = format
        self.identifier = identifier
        self.ownLogLevel = logLevel
        self.metadataProvider = metadataProvider
        self.output = output
        self.journal = journal
    }

    /// Gets or sets one metadata value of this handler.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one entry in the handler's format.
    public func log(event: LogEvent) {
        let entry = LogEntry(
            time: LogTimestamp.now(),
            level: event.level,
            label: label,
            message: event.message.description,
            metadata: mergedMetadata(event),
            file: event.file,
            function: event.function,
            line: event.line
        )
        switch format {
        case .journal:
            let fields = Self.journalFields(entry, identifier: identifier)
            if journal.send(fields) < 0 {
                output.write(Self.textLine(entry))
            }
        case .text:
            output.write(Self.textLine(entry))
        case .json:
            output.write(Self.jsonLine(entry))
        }
    }

    /// Handler metadata, overridden by the provider's, overridden by the entry's own, plus the entry's error.
    private func mergedMetadata(_ event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, new in new }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, new in new }
        }
        if let error = event.error {
            merged["error.message"] = .string("\(error)")
            merged["error.type"] = .string(String(reflecting: type(of: error)))
        }
        return merged
    }
}

/// Everything one rendered entry is made of.
struct LogEntry: Sendable {
    var time: LogTimestamp
    var level: Logger.Level
    var label: String
    var message: String
    var metadata: Logger.Metadata
    var file: String
    var function: String
    var line: UInt
}
