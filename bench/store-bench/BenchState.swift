import Foundation
import PorteroCore
import PorteroStore

/// The benchmark's record: one registration-sized put (about 200 bytes of data).
struct BenchRecord: StoreRecord {
    let key: String
    let value: String

    var type: String { "bench.put" }

    func encodeData() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(["key": key, "value": value]))
    }

    init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    init(type: String, data: [UInt8]) throws {
        let fields = try JSONDecoder().decode([String: String].self, from: Data(data))
        key = fields["key"] ?? ""
        value = fields["value"] ?? ""
    }
}

/// The benchmark's state: the last value of each key.
struct BenchState: StoreStateProtocol {
    var values: [String: String] = [:]

    init() {}

    mutating func apply(_ record: BenchRecord, seq: UInt64, at: Date) {
        values[record.key] = record.value
    }

    func compacted(now: Date) -> BenchState {
        self
    }
}
