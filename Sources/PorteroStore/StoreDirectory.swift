import PorteroFormat

/// The names of the files in a data directory and how to list them.
///
/// `log-<firstseq>.jsonl` and `snapshot-<seq>.json` are written with 16 zero-padded digits; any digit count is read.
struct StoreDirectory: Sendable {
    /// A log segment found in the directory.
    struct Segment: Sendable, Hashable {
        let firstSeq: UInt64
        let path: String
    }

    /// A snapshot found in the directory.
    struct Snapshot: Sendable, Hashable {
        let seq: UInt64
        let path: String
    }

    let path: String

    var lockPath: String { path + "/LOCK" }

    func segmentPath(firstSeq: UInt64) -> String {
        path + "/log-" + Self.padded(firstSeq) + ".jsonl"
    }

    func snapshotPath(seq: UInt64) -> String {
        path + "/snapshot-" + Self.padded(seq) + ".json"
    }

    /// What the directory holds, each kind sorted by sequence number.
    struct Listing: Sendable {
        var segments: [Segment] = []
        var snapshots: [Snapshot] = []
        /// Leftover `snapshot-*.json.tmp` files of snapshots that never completed.
        var temporaryFiles: [String] = []
    }

    func list() throws -> Listing {
        var listing = Listing()
        for name in try POSIXFile.listDirectory(path) {
            if let seq = Self.number(in: name, prefix: "log-", suffix: ".jsonl") {
                listing.segments.append(Segment(firstSeq: seq, path: path + "/" + name))
            } else if let seq = Self.number(in: name, prefix: "snapshot-", suffix: ".json") {
                listing.snapshots.append(Snapshot(seq: seq, path: path + "/" + name))
            } else if name.hasPrefix("snapshot-"), name.hasSuffix(".json.tmp") {
                listing.temporaryFiles.append(path + "/" + name)
            }
        }
        listing.segments.sort { $0.firstSeq < $1.firstSeq }
        listing.snapshots.sort { $0.seq < $1.seq }
        return listing
    }

    static func padded(_ value: UInt64) -> String {
        let digits = String(value)
        return digits.leftPadded(to: 16)
    }

    /// The number in `<prefix><digits><suffix>`, or nil if `name` is not of that form.
    static func number(in name: String, prefix: String, suffix: String) -> UInt64? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else {
            return nil
        }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }
}
