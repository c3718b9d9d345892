#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The local host name, for `Message-ID` domains and Maildir file names.
enum HostName {
    /// `gethostname()`, or `localhost` when it fails or is not a plain DNS name.
    static func current() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard allowed, !name.isEmpty, labels.allSatisfy({ !$0.isEmpty }) else { return "localhost" }
        return name
    }
}
