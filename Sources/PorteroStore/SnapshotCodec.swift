import PorteroFormat
import PorteroCore
import Dispatch
import Foundation
import Glibc
import Synchronization

/// Snapshot files: the state as JSON (``SnapshotJSON``) inside the checksummed envelope `LogFormat.snapshotFile`
/// writes.
///
/// Reading takes the state's own reader (``StoreStateProtocol/readSnapshot(_:)``) over the file's bytes while the
/// checksum is computed on another core, when the envelope is exactly as written; anything else (damage, another
/// layout, a state the reader refuses) goes the way it always went: the envelope checked by `LogFormat`, the state
/// decoded by `JSONDecoder`, so every verdict and warning about a bad file is the one it always was. Writing streams
/// the state's JSON (``StoreStateProtocol/writeSnapshot(to:)``) through the checksum into the file a megabyte at a
/// time, instead of building the whole file in memory.
enum SnapshotCodec {
    /// What reading one snapshot file gave.
    enum Outcome<State: Sendable>: Sendable {
        case valid(State, seq: UInt64)
        /// Unreadable, checksum-failing or undecodable: skipped with a warning.
        case invalid(String)
        /// Intact but in a format this version does not read: start-up refuses.
        case unsupported(format: UInt64)
    }

    /// The state's snapshot JSON, in memory.
    static func encode<State: StoreStateProtocol>(_ state: State) throws -> [UInt8] {
        var writer = SnapshotJSONWriter()
        try state.writeSnapshot(to: &writer)
        return writer.bytes
    }

    /// Reads, checks and decodes the snapshot at `path`, which its name says holds the state as of `seq`.
    static func load<State: StoreStateProtocol>(_ type: State.Type, path: String, seq: UInt64) -> Outcome<State> {
        let bytes: [UInt8]
        do {
            bytes = try POSIXFile.readFile(path)
        } catch {
            return .invalid("\(error)")
        }
        if let state = fastLoad(State.self, bytes: bytes, seq: seq) {
            return .valid(state, seq: seq)
        }
        let header: LogFormat.SnapshotHeader
        switch LogFormat.parseSnapshot(bytes) {
        case .failure(let error): return .invalid(error.reason)
        case .success(let parsed): header = parsed
        }
        guard header.format == LogFormat.version else { return .unsupported(format: header.format) }
        guard header.seq == seq else {
            return .invalid("the file says seq \(header.seq) but its name says \(seq)")
        }
        do {
            let state = try bytes.withUnsafeBufferPointer {
                try SnapshotJSON.decode(State.self, from: UnsafeBufferPointer(rebasing: $0[header.state]))
            }
            return .valid(state, seq: seq)
        } catch {
            return .invalid("the state does not decode (written by another version, or damaged)")
        }
    }

    /// The state, when the file is laid out exactly as ``write(_:seq:at:in:)`` writes it, names `seq` and this
    /// format, passes its checksum, and the state's own reader reads it; nil otherwise (the caller then takes the
    /// long way, which gives the verdict).
    private static func fastLoad<State: StoreStateProtocol>(_ type: State.Type, bytes: [UInt8], seq: UInt64) -> State? {
        guard let envelope = LogFormat.snapshotEnvelope(bytes), envelope.format == LogFormat.version,
            envelope.seq == seq
        else { return nil }
        // Two pieces of work over the same immutable bytes, one per core: the checksum and the reading.
        let results = Mutex<(checksum: UInt32?, state: State?)>((nil, nil))
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 {
                let checksum = CRC32C.checksum(bytes[0..<envelope.checksummed])
                results.withLock { $0.checksum = checksum }
            } else {
                let state = try? State.readSnapshot(bytes[envelope.state])
                results.withLock { $0.state = state }
            }
        }
        let (checksum, state) = results.withLock { ($0.checksum, $0.state) }
        return checksum == envelope.crc ? state : nil
    }

    /// Writes `snapshot-<seq>.json` of `state` the durable way: temp file, fsync, rename, directory fsync; the temp
    /// file is removed on failure. Returns the file's size. The JSON goes to the file in pieces of about `threshold`
    /// bytes.
    static func write<State: StoreStateProtocol>(
        _ state: State,
        seq: UInt64,
        at: UTCTimestamp,
        in directory: StoreDirectory,
        threshold: Int = 1 << 20
    ) throws -> Int {
        let path = directory.snapshotPath(seq: seq)
        let temporary = path + ".tmp"
        do {
            let size = try writeFile(temporary) { fd in
                var crc = CRC32C.start
                var writer = SnapshotJSONWriter(threshold: threshold) { chunk in
                    crc = CRC32C.update(crc, chunk)
                    if let code = POSIXFile.writeAll(fd, UnsafeRawBufferPointer(chunk)) {
                        throw StoreError.io("cannot write snapshot", path: temporary, errno: code)
                    }
                }
                writer.raw(LogFormat.snapshotPrefix(seq: seq, at: at))
                try state.writeSnapshot(to: &writer)
                try writer.flush()
                let suffix = LogFormat.checksumSuffix(CRC32C.finish(crc))
                if let code = POSIXFile.writeAll(fd, suffix) {
                    throw StoreError.io("cannot write snapshot", path: temporary, errno: code)
                }
                return writer.flushedCount + suffix.count
            }
            if let code = POSIXFile.rename(temporary, path) {
                throw StoreError.io("cannot rename snapshot to", path: path, errno: code)
            }
            try POSIXFile.syncDirectoryOrThrow(directory.path)
            return size
        } catch {
            _ = POSIXFile.remove(temporary)
            throw error
        }
    }

    /// Creates `path` afresh (mode 0600, `O_EXCL` after unlinking whatever was there), lets `body` write it, fsyncs
    /// and closes it.
    private static func writeFile(_ path: String, _ body: (Int32) throws -> Int) throws -> Int {
        if let code = POSIXFile.remove(path) {
            throw StoreError.io("cannot remove the old snapshot", path: path, errno: code)
        }
        let fd = try POSIXFile.openOrThrow(path, flags: O_WRONLY | O_CREAT | O_EXCL, what: "snapshot")
        defer { POSIXFile.close(fd) }
        let size = try body(fd)
        if let code = POSIXFile.sync(fd) {
            throw StoreError.io("cannot fsync snapshot", path: path, errno: code)
        }
        return size
    }
}
