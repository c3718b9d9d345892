/// A place in the data directory: a file, a 1-based line and the byte offset where that line starts.
public struct StoreLocation: Hashable, Sendable, CustomStringConvertible {
    /// Path of the file.
    public let path: String
    /// 1-based line number (1 for a snapshot file).
    public let line: Int
    /// Offset in bytes of the start of the line.
    public let byteOffset: Int

    public init(path: String, line: Int, byteOffset: Int) {
        self.path = path
        self.line = line
        self.byteOffset = byteOffset
    }

    public var description: String {
        "\(path) line \(line) (byte offset \(byteOffset))"
    }
}

/// An error from the store: a kind (`code`), a one-line message, an optional cause, and where it was thrown.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// The kind of error; compare with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case unavailable
            case closed
            case directoryLocked
            case damaged
            case unsupportedFormat
            case invalidRecord
            case aborted
            case io
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The store has failed (fail-stop) and accepts no more writes.
        public static var unavailable: Self { Self(.unavailable) }
        /// The store was closed.
        public static var closed: Self { Self(.closed) }
        /// Another process holds the data directory's lock.
        public static var directoryLocked: Self { Self(.directoryLocked) }
        /// A file in the data directory is damaged in a way recovery must not repair by itself.
        public static var damaged: Self { Self(.damaged) }
        /// A file was written by a newer version (unknown `format`).
        public static var unsupportedFormat: Self { Self(.unsupportedFormat) }
        /// A record cannot be written (reserved type, data that is not one compact JSON object, encoder error).
        public static var invalidRecord: Self { Self(.invalidRecord) }
        /// Nothing was written because a transaction queued ahead in the same commit had an invalid record;
        /// retrying is safe.
        public static var aborted: Self { Self(.aborted) }
        /// A system call failed outside the write path (creating the directory, reading a file, ...).
        public static var io: Self { Self(.io) }

        public var description: String {
            switch base {
            case .unavailable: "unavailable"
            case .closed: "closed"
            case .directoryLocked: "directoryLocked"
            case .damaged: "damaged"
            case .unsupportedFormat: "unsupportedFormat"
            case .invalidRecord: "invalidRecord"
            case .aborted: "aborted"
            case .io: "io"
            }
        }
    }

    /// The kind of error.
    public let code: Code
    /// One line for a human, naming paths and what to do where it can.
    public let message: String
    /// The underlying error, if any.
    public let cause: (any Error)?
    /// The damaged place in the data directory, for `.damaged` and `.unsupportedFormat`.
    public let location: StoreLocation?
    /// Source file that threw.
    public let file: String
    /// Source line that threw.
    public let line: Int

    init(
        _ code: Code,
        _ message: String,
        location: StoreLocation? = nil,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
        self.file = file
        self.line = line
    }

    /// True when writes are refused because the store failed or was closed; reads still work.
    public var isUnavailable: Bool {
        code == .unavailable || code == .closed
    }

    public var description: String {
        message
    }

    static func unavailable(_ reason: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(.unavailable, "store unavailable: \(reason)", file: file, line: line)
    }

    static func closed(file: String = #fileID, line: Int = #line) -> Self {
        Self(.closed, "store is closed", file: file, line: line)
    }

    static func directoryLocked(directory: String, lockPath: String, file: String = #fileID, line: Int = #line) -> Self
    {
        Self(
            .directoryLocked,
            "data directory \(directory) is in use by another portero process (lock \(lockPath) is held)",
            file: file,
            line: line
        )
    }

    /// Damage recovery refuses to repair: names the file, line and byte offset and points at `portero check`.
    static func damaged(
        directory: String,
        at location: StoreLocation,
        _ problem: String,
        file: String = #fileID,
        line: Int = #line
    ) -> Self {
        Self(
            .damaged,
            "store damaged: \(location): \(problem); run `portero check --data-dir \(directory)` for a full report",
            location: location,
            file: file,
            line: line
        )
    }

    static func io(_ what: String, path: String, errno code: Int32, file: String = #fileID, line: Int = #line) -> Self {
        Self(.io, "\(what) \(path): \(POSIXErrorText.describe(code))", file: file, line: line)
    }
}
