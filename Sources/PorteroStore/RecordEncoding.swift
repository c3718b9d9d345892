import PorteroFormat
import PorteroCore
/// Turns a transaction's records into log lines, refusing any record the log could not read back.
enum RecordEncoding {
    /// Appends the lines (each ending in a newline) of `records`, numbered from `firstSeq`, all stamped `at`.
    ///
    /// Throws ``StoreError`` `.invalidRecord` for a reserved or empty type, an encoder error, data that is not
    /// exactly one compact JSON object, or data the record type's own initializer rejects; `out` is then unchanged.
    static func appendLines<Record: StoreRecord>(
        _ records: [Record],
        firstSeq: UInt64,
        at: UTCTimestamp,
        to out: inout [UInt8]
    ) throws {
        let atBytes = at.bytes
        let start = out.count
        var seq = firstSeq
        do {
            for record in records {
                let type = record.type
                let data = try validatedData(record)
                LogFormat.appendLine(seq: seq, at: atBytes, quotedType: LogFormat.quoted(type), data: data, to: &out)
                seq += 1
            }
        } catch {
            out.removeSubrange(start...)
            throw error
        }
    }

    /// Refuses an empty type or one in the engine's `store.` namespace.
    static func checkType(_ type: String) throws {
        guard !type.isEmpty, !type.hasPrefix(LogFormat.reservedPrefix) else {
            throw StoreError(.invalidRecord, "record type \"\(type)\" is empty or reserved for the store")
        }
    }

    /// The record's data, checked to be a single JSON object without line breaks that decodes back.
    static func validatedData<Record: StoreRecord>(_ record: Record) throws -> [UInt8] {
        let type = record.type
        try checkType(type)
        let data: [UInt8]
        do {
            data = try record.encodeData()
        } catch {
            throw StoreError(.invalidRecord, "record of type \(type) failed to encode (see the cause)", cause: error)
        }
        guard !data.contains(0x0A), !data.contains(0x0D), JSONScanner.isSingleObject(data, range: 0..<data.count)
        else {
            throw StoreError(.invalidRecord, "record of type \(type) did not encode as one compact JSON object")
        }
        do {
            _ = try Record(type: type, data: data)
        } catch {
            throw StoreError(
                .invalidRecord, "record of type \(type) does not decode back (see the cause)", cause: error)
        }
        return data
    }
}
