/// A POSIX ustar archive of regular files and directories: what `POST /admin/v1/backup` answers and `portero
/// backup` unpacks (`tar -x` reads it too). No links, devices or long names: a backup holds none.
public enum TarArchive {
    /// One member of the archive.
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case file
            case directory
        }

        /// A relative path, `/`-separated, at most 100 bytes.
        public var path: String
        public var kind: Kind
        /// Permission bits (0o600, 0o700).
        public var mode: UInt16
        /// The file's bytes (empty for a directory).
        public var contents: [UInt8]

        public init(path: String, kind: Kind = .file, mode: UInt16, contents: [UInt8] = []) {
            self.path = path
            self.kind = kind
            self.mode = mode
            self.contents = contents
        }
    }

    /// Why bytes are not an archive this module reads.
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    static let block = 512

    /// The archive of `entries`, in order, with `mtime` (seconds since 1970) on every member.
    public static func archive(_ entries: [Entry], mtime: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(2 * block) { $0 + block + padded($1.contents.count) })
        for entry in entries {
            var header = [UInt8](repeating: 0, count: block)
            put(Array(entry.path.utf8.prefix(100)), at: 0, in: &header)
            put(octal(Int(entry.mode), width: 8), at: 100, in: &header)
            put(octal(0, width: 8), at: 108, in: &header)
            put(octal(0, width: 8), at: 116, in: &header)
            put(octal(entry.kind == .file ? entry.contents.count : 0, width: 12), at: 124, in: &header)
            put(octal(mtime, width: 12), at: 136, in: &header)
            header[156] = entry.kind == .file ? UInt8(ascii: "0") : UInt8(ascii: "5")
            put(Array("ustar\0".utf8), at: 257, in: &header)
            put(Array("00".utf8), at: 263, in: &header)
            put(Array("root".utf8), at: 265, in: &header)
            put(Array("root".utf8), at: 297, in: &header)
            put(checksum(header), at: 148, in: &header)
            out += header
            if entry.kind == .file {
                out += entry.contents
                out += [UInt8](repeating: 0, count: padded(entry.contents.count) - entry.contents.count)
            }
        }
        out += [UInt8](repeating: 0, count: 2 * block)
        return out
    }

    /// The members of `bytes`, checked: headers' checksums, sizes within the archive, regular files and
    /// directories only, relative paths without `..`.
    public static func entries(of bytes: [UInt8]) throws(FormatError) -> [Entry] {
        var entries: [Entry] = []
        var offset = 0
        while offset + block <= bytes.count {
            let header = Array(bytes[offset..<(offset + block)])
            if header.allSatisfy({ $0 == 0 }) { return entries }
            guard header[257..<262].elementsEqual("ustar".utf8) else { throw FormatError("not a ustar archive") }
            guard let stored = number(header[148..<156]), stored == sum(header) else {
                throw FormatError("bad header checksum at byte \(offset)")
            }
            let path = text(header[0..<100])
            guard let size = number(header[124..<136]), let mode = number(header[100..<108]), mode <= 0o7777 else {
                throw FormatError("bad header for \(path)")
            }
            guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw FormatError("refusing the path \(path)")
            }
            let kind: Entry.Kind
            switch header[156] {
            case 0, UInt8(ascii: "0"): kind = .file
            case UInt8(ascii: "5"): kind = .directory
            default: throw FormatError("\(path) is neither a file nor a directory")
            }
            let start = offset + block
            guard size <= bytes.count - start else { throw FormatError("\(path) is cut short") }
            let contents = kind == .file ? Array(bytes[start..<(start + size)]) : []
            let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
            entries.append(Entry(path: trimmed, kind: kind, mode: UInt16(mode), contents: contents))
            offset = start + padded(kind == .file ? size : 0)
        }
        throw FormatError("the archive ends without its end-of-archive blocks")
    }

    private static func padded(_ count: Int) -> Int { (count + block - 1) / block * block }

    private static func put(_ field: [UInt8], at offset: Int, in header: inout [UInt8]) {
        header.replaceSubrange(offset..<(offset + field.count), with: field)
    }

    /// `width - 1` octal digits and a NUL.
    private static func octal(_ value: Int, width: Int) -> [UInt8] {
        Array(String(value, radix: 8).leftPadded(to: width - 1).utf8) + [0]
    }

    /// The header's checksum field: six octal digits, NUL, space — summed with the field itself as spaces.
    private static func checksum(_ header: [UInt8]) -> [UInt8] {
        Array(String(sum(header), radix: 8).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")]
    }

    private static func sum(_ header: [UInt8]) -> Int {
        header.indices.reduce(0) { $0 + ((148..<156).contains($1) ? 32 : Int(header[$1])) }
    }

    private static func number(_ field: ArraySlice<UInt8>) -> Int? {
        let digits = field.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }.drop { $0 == UInt8(ascii: " ") }
        return digits.isEmpty ? nil : Int(String(decoding: digits, as: UTF8.self), radix: 8)
    }

    private static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}
