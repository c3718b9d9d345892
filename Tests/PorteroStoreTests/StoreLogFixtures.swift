import PorteroFormat
import Foundation
import PorteroTestSupport

import PorteroCore
@testable import PorteroStore

/// A log written by a real store, with what the state was after each record.
struct RecordedLog {
    /// The only segment.
    let path: String
    let bytes: [UInt8]
    /// Where each line starts, then the file size.
    let lineStarts: [Int]
    /// `states[k]` is the durable state after the first `k` records.
    let states: [KeyValueState]

    var lineCount: Int { lineStarts.count - 1 }

    /// Writes `records` records, one transaction each, into a new store in `directory`, and closes it.
    static func make(in directory: TestDirectory, records: Int) async throws -> RecordedLog {
        let store = try await openStore(directory)
        var states = [await store.state]
        for index in 0..<records {
            try await store.write { transaction in
                transaction.append(.put(key: "key-\(index % 4)", value: String(repeating: "v", count: index + 3)))
            }
            states.append(await store.state)
        }
        await store.close(snapshot: false)
        let path = directory.file("log-0000000000000001.jsonl")
        let bytes = try readBytes(path)
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == 0x0A {
            starts.append(offset + 1)
        }
        return RecordedLog(path: path, bytes: bytes, lineStarts: starts, states: states)
    }

    /// The number of lines that lie completely before `cut`.
    func completeLines(before cut: Int) -> Int {
        lineStarts.dropFirst().filter { $0 <= cut }.count
    }
}

func readBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Hand-made log lines for damage a running store never writes.
enum LogFixture {
    static func line(seq: UInt64, type: String, data: String) -> [UInt8] {
        var out: [UInt8] = []
        LogFormat.appendLine(
            seq: seq,
            at: UTCTimestamp(milliseconds: 1_795_000_000_000 + Int64(seq)).bytes,
            quotedType: LogFormat.quoted(type),
            data: Array(data.utf8),
            to: &out
        )
        return out
    }

    static func header(_ seq: UInt64, format: Int = 1) -> [UInt8] {
        line(seq: seq, type: "store.segment", data: #"{"format":\#(format)}"#)
    }

    static func put(_ seq: UInt64) -> [UInt8] {
        line(seq: seq, type: "kv.put", data: #"{"key":"k\#(seq)","value":"v"}"#)
    }

    /// A segment `log-<first>` holding a header and puts up to `last`.
    static func segment(_ first: UInt64, through last: UInt64) -> [UInt8] {
        header(first) + (first + 1...max(first + 1, last)).filter { $0 <= last }.flatMap { put($0) }
    }

    static func segmentName(_ first: UInt64) -> String {
        "log-\(StoreDirectory.padded(first)).jsonl"
    }
}
