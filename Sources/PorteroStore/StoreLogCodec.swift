public import Foundation
import PorteroFormat
public import PorteroCore

/// The log's per-line work as the store does it, for callers outside this package that measure it
/// (`bench/micro`): nothing here is a second implementation, each method calls the one the store uses.
public enum StoreLogCodec {
    /// CRC-32C of `bytes`, as every log line and snapshot carries it.
    public static func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        CRC32C.checksum(bytes.bindMemory(to: UInt8.self))
    }

    /// Appends the log lines of `records` (each ending in a newline), numbered from `firstSeq` and stamped `at`,
    /// exactly as a commit writes them: each record encoded, checked to be one compact JSON object, decoded back.
    ///
    /// Throws ``StoreError`` `.invalidRecord` for a record the log could not read back; `out` is then unchanged.
    public static func appendLines<Record: StoreRecord>(
        _ records: [Record], firstSeq: UInt64, at: Date, to out: inout [UInt8]
    ) throws {
        try RecordEncoding.appendLines(records, firstSeq: firstSeq, at: UTCTimestamp(at), to: &out)
    }

    /// Reads back one log line (`range` excludes its newline) as recovery does: syntax, field order and checksum,
    /// then the record type's own decoding of `data`.
    ///
    /// Throws ``StoreError`` `.damaged` for a line that does not parse or pass its checksum, and what the record's
    /// initializer throws for data it rejects.
    public static func readLine<Record: StoreRecord>(
        _ bytes: [UInt8], _ range: Range<Int>, as type: Record.Type = Record.self
    ) throws -> (seq: UInt64, at: Date, record: Record) {
        switch LogFormat.parseLine(bytes, range) {
        case .failure(let error):
            throw StoreError(.damaged, "log line does not parse: \(error.reason)")
        case .success(let line):
            let record = try Record(type: line.type, data: Array(bytes[line.data]))
            return (line.seq, line.at.date, record)
        }
    }
}
