public import Logging
import Synchronization

/// Captures what a component logs, so tests can check that the store warned (and never logged record data).
public final class StoreLogRecorder: Sendable {
    /// One captured log call.
    public struct Entry: Sendable, CustomStringConvertible {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]

        public var description: String {
            "[\(level)] \(message) \(metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })"
        }
    }

    private let captured = Mutex<[Entry]>([])

    public init() {}

    /// A logger (level `trace`) whose output lands here.
    public var logger: Logger {
        var logger = Logger(label: "portero.test") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Everything logged so far.
    public var entries: [Entry] {
        captured.withLock { $0 }
    }

    /// What was logged at `level` or more severe.
    public func entries(atLeast level: Logger.Level) -> [Entry] {
        entries.filter { $0.level >= level }
    }

    /// Forgets everything captured so far.
    public func reset() {
        captured.withLock { $0.removeAll() }
    }

    fileprivate func record(_ entry: Entry) {
        captured.withLock { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let recorder: StoreLogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        func log(event: LogEvent) {
            var flat: [String: String] = [:]
            for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
                flat[key] = "\(value)"
            }
            recorder.record(Entry(level: event.level, message: "\(event.message)", metadata: flat))
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
    }
}
