import Foundation
public import PorteroCore
public import PorteroStore

/// A failed conformance check: what was expected and where.
public struct StoreConformanceFailure: Error, CustomStringConvertible {
    public let description: String
}

/// The contract every ``RecordStore`` must meet, as checks that any test framework can run: each takes a fresh,
/// empty store of ``KeyValueState`` and throws ``StoreConformanceFailure`` when the store breaks the contract.
///
/// `PorteroStoreTests` runs every case against `FileStore` and `MemoryStore`; run them against any new
/// implementation too.
public enum StoreConformanceCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    case writeThenRead
    case transactionSeesItsOwnRecords
    case transactionSeesQueuedRecords
    case throwingBodyWritesNothing
    case throwingBodyAmongConcurrentWriters
    case emptyBodyReturnsAtOnce
    case concurrentWritersGetDistinctSeqs
    case sequentialWritesGetIncreasingSeqs
    case invalidRecordsAreRefused
    case invalidRecordAmongConcurrentWriters
    case transactionTimeIsWholeMilliseconds

    public var description: String { rawValue }

    /// Runs this check on `store`, which must be empty and writable.
    public func run<Store: RecordStore>(on store: Store) async throws where Store.State == KeyValueState {
        switch self {
        case .writeThenRead: try await Self.writeThenRead(store)
        case .transactionSeesItsOwnRecords: try await Self.transactionSeesItsOwnRecords(store)
        case .transactionSeesQueuedRecords: try await Self.transactionSeesQueuedRecords(store)
        case .throwingBodyWritesNothing: try await Self.throwingBodyWritesNothing(store)
        case .throwingBodyAmongConcurrentWriters: try await Self.throwingBodyAmongConcurrentWriters(store)
        case .emptyBodyReturnsAtOnce: try await Self.emptyBodyReturnsAtOnce(store)
        case .concurrentWritersGetDistinctSeqs: try await Self.concurrentWritersGetDistinctSeqs(store)
        case .sequentialWritesGetIncreasingSeqs: try await Self.sequentialWritesGetIncreasingSeqs(store)
        case .invalidRecordsAreRefused: try await Self.invalidRecordsAreRefused(store)
        case .invalidRecordAmongConcurrentWriters: try await Self.invalidRecordAmongConcurrentWriters(store)
        case .transactionTimeIsWholeMilliseconds: try await Self.transactionTimeIsWholeMilliseconds(store)
        }
    }

    private struct Refusal: Error {}

    private static func require(
        _ condition: Bool,
        _ message: @autoclosure () -> String,
        line: Int = #line
    ) throws {
        if !condition {
            throw StoreConformanceFailure(description: "StoreConformance line \(line): \(message())")
        }
    }

    private static func writeThenRead<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        let before = await store.lastSeq
        let answer = try await store.write { transaction in
            transaction.append(.put(key: "a", value: "1"))
            return "done"
        }
        try require(answer == "done", "write returned \(answer), not the body's result")
        let state = await store.state
        try require(state.value("a") == "1", "durable state lacks the acknowledged record: \(state)")
        let read = store.withCurrentState { $0.value("a") }
        try require(read == "1", "withCurrentState lacks the acknowledged record: \(read ?? "nil")")
        let after = await store.lastSeq
        try require(after > before, "lastSeq did not advance (\(before) → \(after))")
        try require(state.entries["a"]?.seq == after, "the record's seq \(state.entries["a"]?.seq ?? 0) ≠ lastSeq")
        let failure = await store.failure
        try require(failure == nil, "a writable store reports failure \(failure ?? "")")
    }

    private static func transactionSeesItsOwnRecords<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        let seen = try await store.write { transaction -> [String?] in
            transaction.append(.put(key: "a", value: "1"))
            let first = transaction.state.value("a")
            transaction.append(.put(key: "a", value: "2"))
            let second = transaction.state.value("a")
            transaction.append(.delete(key: "a"))
            let third = transaction.state.value("a")
            transaction.append(.put(key: "b", value: "x"))
            return [first, second, third]
        }
        try require(seen == ["1", "2", nil], "the transaction saw \(seen) of its own records")
        let state = await store.state
        try require(state.value("a") == nil && state.value("b") == "x", "durable state is \(state)")
        try require(state.appliedCount == 4, "applied \(state.appliedCount) records, want 4")
    }

    private static func transactionSeesQueuedRecords<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        let writers = 48
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<writers {
                group.addTask {
                    try await store.write { transaction in
                        let count = Int(transaction.state.value("counter") ?? "0") ?? 0
                        transaction.append(.put(key: "counter", value: String(count + 1)))
                    }
                }
            }
            try await group.waitForAll()
        }
        let counter = await store.state.value("counter")
        try require(
            counter == String(writers),
            "\(writers) increments left the counter at \(counter ?? "nil"): a transaction missed a queued record"
        )
    }

    private static func throwingBodyWritesNothing<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        try await store.write { $0.append(.put(key: "keep", value: "1")) }
        let seqBefore = await store.lastSeq
        let stateBefore = await store.state
        do {
            try await store.write { transaction in
                transaction.append(.put(key: "gone", value: "1"))
                transaction.append(.delete(key: "keep"))
                throw Refusal()
            }
            try require(false, "a throwing body did not throw")
        } catch is Refusal {}
        let seqAfter = await store.lastSeq
        let stateAfter = await store.state
        try require(seqAfter == seqBefore, "a throwing body moved lastSeq \(seqBefore) → \(seqAfter)")
        try require(stateAfter == stateBefore, "a throwing body changed the durable state")
        let staged = try await store.write { transaction in
            [transaction.state.value("gone"), transaction.state.value("keep")]
        }
        try require(staged == [nil, "1"], "the staged state kept a thrown transaction's records: \(staged)")
        try await store.write { $0.append(.put(key: "later", value: "1")) }
        let later = await store.state
        try require(later.value("later") == "1" && later.value("gone") == nil, "writes after a throw broke: \(later)")
    }

    private static func throwingBodyAmongConcurrentWriters<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        let writers = 32
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writers {
                group.addTask {
                    do {
                        try await store.write { transaction in
                            transaction.append(.put(key: "k\(index)", value: "v"))
                            let count = Int(transaction.state.value("counter") ?? "0") ?? 0
                            transaction.append(.put(key: "counter", value: String(count + 1)))
                            if index % 3 == 0 {
                                throw Refusal()
                            }
                        }
                    } catch is Refusal {}
                }
            }
            try await group.waitForAll()
        }
        let state = await store.state
        let kept = (0..<writers).filter { $0 % 3 != 0 }
        try require(
            state.value("counter") == String(kept.count),
            "counter is \(state.value("counter") ?? "nil"), want \(kept.count): a thrown transaction leaked"
        )
        for index in 0..<writers {
            let outcome = index % 3 == 0 ? "threw" : "succeeded"
            try require(
                (state.value("k\(index)") != nil) == (index % 3 != 0),
                "key k\(index) is \(state.value("k\(index)") ?? "absent") after its writer \(outcome)"
            )
        }
    }

    private static func emptyBodyReturnsAtOnce<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        let before = await store.lastSeq
        let answer = try await store.write { transaction in
            transaction.state.value("nothing") ?? "empty"
        }
        let after = await store.lastSeq
        try require(answer == "empty", "an empty body returned \(answer)")
        try require(before == after, "an empty body moved lastSeq \(before) → \(after)")
    }

    private static func concurrentWritersGetDistinctSeqs<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        let writers = 64
        let before = await store.lastSeq
        let seqs = try await withThrowingTaskGroup(of: (Int, UInt64).self) { group in
            for index in 0..<writers {
                group.addTask {
                    let seq = try await store.write { transaction in
                        let seq = transaction.nextSeq
                        transaction.append(.put(key: "w\(index)", value: String(index)))
                        return seq
                    }
                    return (index, seq)
                }
            }
            var seqs: [Int: UInt64] = [:]
            for try await (index, seq) in group {
                seqs[index] = seq
            }
            return seqs
        }
        let state = await store.state
        let lastSeq = await store.lastSeq
        try require(Set(seqs.values).count == writers, "\(writers) writers got \(Set(seqs.values).count) distinct seqs")
        for (index, seq) in seqs {
            try require(seq > before && seq <= lastSeq, "writer \(index) got seq \(seq) outside \(before)...\(lastSeq)")
            let entry = state.entries["w\(index)"]
            try require(
                entry?.seq == seq,
                "writer \(index) was acknowledged with seq \(seq) but the state holds \(String(describing: entry))"
            )
        }
    }

    private static func sequentialWritesGetIncreasingSeqs<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        var previous = await store.lastSeq
        for index in 0..<20 {
            let seq = try await store.write { transaction in
                let seq = transaction.nextSeq
                transaction.append(.put(key: "s", value: String(index)))
                return seq
            }
            try require(seq > previous, "seq \(seq) after \(previous)")
            let lastSeq = await store.lastSeq
            try require(lastSeq >= seq, "lastSeq \(lastSeq) behind an acknowledged seq \(seq)")
            previous = seq
        }
    }

    private static func invalidRecordsAreRefused<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        try await store.write { $0.append(.put(key: "before", value: "1")) }
        let seqBefore = await store.lastSeq
        let stateBefore = await store.state
        let invalid: [KeyValueRecord] = [
            .raw(type: "store.segment", data: Array(#"{"format":1}"#.utf8)),
            .raw(type: "", data: Array("{}".utf8)),
            .raw(type: "kv.raw", data: Array("not json".utf8)),
            .raw(type: "kv.raw", data: Array("[1,2]".utf8)),
            .raw(type: "kv.raw", data: Array("{\"a\":\n1}".utf8)),
            .raw(type: "kv.raw", data: Array(#"{"a":1}{"b":2}"#.utf8)),
            .raw(type: "kv.unknown", data: Array("{}".utf8)),
        ]
        for record in invalid {
            do {
                try await store.write { transaction in
                    transaction.append(.put(key: "with-invalid", value: "1"))
                    transaction.append(record)
                }
                try require(false, "the store accepted \(record)")
            } catch let error as StoreError {
                try require(error.code == .invalidRecord, "\(record) was refused as \(error.code), not invalidRecord")
            }
        }
        let seqAfter = await store.lastSeq
        let stateAfter = await store.state
        try require(seqAfter == seqBefore && stateAfter == stateBefore, "a refused record changed the store")
        let staged = try await store.write { $0.state.value("with-invalid") }
        try require(staged == nil, "the staged state kept a refused transaction")
        try await store.write {
            $0.append(.raw(type: "kv.raw", data: Array(#"{"ok":[true,null,-1.5e3,"\u00e9"]}"#.utf8)))
        }
    }

    /// A record that cannot be written fails its own transaction with `.invalidRecord`; a store may also refuse
    /// (with `.aborted`) transactions queued after it, but every acknowledged write is kept and no refused one is.
    private static func invalidRecordAmongConcurrentWriters<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        let writers = 24
        let bad = 7
        let outcomes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for index in 0..<writers {
                group.addTask {
                    do {
                        try await store.write { transaction in
                            transaction.append(.put(key: "c\(index)", value: "v"))
                            let count = Int(transaction.state.value("counter") ?? "0") ?? 0
                            transaction.append(.put(key: "counter", value: String(count + 1)))
                            if index == bad {
                                transaction.append(.raw(type: "kv.raw", data: Array("{oops}".utf8)))
                            }
                        }
                        return (index, "ok")
                    } catch let error as StoreError {
                        return (index, error.code.description)
                    }
                }
            }
            var outcomes: [Int: String] = [:]
            for try await (index, outcome) in group {
                outcomes[index] = outcome
            }
            return outcomes
        }
        try require(outcomes[bad] == "invalidRecord", "the invalid record's writer got \(outcomes[bad] ?? "nil")")
        let state = await store.state
        let succeeded = outcomes.filter { $0.value == "ok" }.map(\.key)
        for (index, outcome) in outcomes where index != bad {
            try require(outcome == "ok" || outcome == "aborted", "writer \(index) got \(outcome)")
        }
        for index in 0..<writers {
            try require(
                (state.value("c\(index)") != nil) == (outcomes[index] == "ok"),
                "writer \(index) got \(outcomes[index] ?? "nil") but its key is \(state.value("c\(index)") ?? "absent")"
            )
        }
        try require(
            state.value("counter") == (succeeded.isEmpty ? nil : String(succeeded.count)),
            "counter \(state.value("counter") ?? "nil") after \(succeeded.count) successful increments"
        )
        try await store.write { $0.append(.put(key: "after", value: "1")) }
        let after = await store.state
        try require(after.value("after") == "1", "the store did not go on after refusing a record")
    }

    private static func transactionTimeIsWholeMilliseconds<Store: RecordStore>(_ store: Store) async throws
    where Store.State == KeyValueState {
        let now = try await store.write { transaction in
            transaction.append(.put(key: "t", value: "1"))
            return transaction.now
        }
        let milliseconds = now.timeIntervalSince1970 * 1000
        try require(
            abs(milliseconds - milliseconds.rounded()) < 0.001,
            "transaction time \(now.timeIntervalSince1970) is not a whole millisecond"
        )
        let at = await store.state.entries["t"]?.at
        try require(at == now, "the record was applied at \(String(describing: at)), not the transaction's now \(now)")
    }
}
