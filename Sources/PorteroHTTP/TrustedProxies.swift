import Glibc

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as an IPv4-mapped IPv6 address, so `::ffff:1.2.3.4` and `1.2.3.4`
/// are one address).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// Network byte order.
    public let bytes: [UInt8]

    /// True for IPv4 (and IPv4-mapped IPv6) addresses.
    public var isIPv4: Bool { bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF }

    /// Parses an address as written in a socket address or an `X-Forwarded-For` hop: `1.2.3.4`, `1.2.3.4:80`,
    /// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`. Anything else (zone ids included) is nil.
    public init?(_ text: some StringProtocol) {
        var address = Substring(text)
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { return nil }
            let rest = address[address.index(after: close)...]
            guard rest.isEmpty || Self.isPort(rest) else { return nil }
            address = address[address.index(after: address.startIndex)..<close]
        } else if address.filter({ $0 == ":" }).count == 1, let colon = address.firstIndex(of: ":") {
            guard Self.isPort(address[colon...]) else { return nil }
            address = address[..<colon]
        }
        guard !address.isEmpty, address.utf8.count <= 45 else { return nil }
        let string = String(address)
        // Plain byte buffers rather than in_addr/in6_addr: which module those C structs come from differs between
        // debug and release builds, and MemberImportVisibility then refuses their members.
        var v4 = [UInt8](repeating: 0, count: 4)
        var v6 = [UInt8](repeating: 0, count: 16)
        if v4.withUnsafeMutableBytes({ inet_pton(AF_INET, string, $0.baseAddress) }) == 1 {
            bytes = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + v4
        } else if v6.withUnsafeMutableBytes({ inet_pton(AF_INET6, string, $0.baseAddress) }) == 1 {
            bytes = v6
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// `:80`-style port suffix.
    private static func isPort(_ text: Substring) -> Bool {
        text.first == ":" && (2...6).contains(text.count) && text.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The canonical text: dotted quad for IPv4, RFC 5952 for IPv6 (what `inet_ntop` writes).
    public var description: String {
        if isIPv4 { return bytes[12...].map { String($0) }.joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written = bytes.withUnsafeBytes { raw in
            inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        guard written != nil else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The key rate limits count against: the address for IPv4, its /64 network for IPv6 (one subscriber usually
    /// holds a whole /64, so counting single IPv6 addresses would be no limit at all).
    public var rateLimitKey: String {
        if isIPv4 { return description }
        return IPAddress(bytes: Array(bytes[0..<8]) + [UInt8](repeating: 0, count: 8)).description + "/64"
    }
}

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `fd00::/8`, or a bare address).
public struct IPNetwork: Sendable, Hashable {
    public let address: IPAddress
    /// Prefix length counted over the 16-byte form (an IPv4 `/8` is `/104` here).
    public let prefixLength: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].contains("["), !parts[0].isEmpty,
            parts[0].filter({ $0 == ":" }).count != 1, let address = IPAddress(parts[0])
        else { return nil }
        let bits = address.isIPv4 && !parts[0].contains(":") ? 32 : 128
        var prefix = bits
        if parts.count == 2 {
            guard parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(parts[1]),
                (0...bits).contains(value)
            else { return nil }
            prefix = value
        }
        self.address = address
        self.prefixLength = prefix + (128 - bits)
    }

    public func contains(_ other: IPAddress) -> Bool {
        var remaining = prefixLength
        for index in 0..<16 where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address.bytes[index] & mask != other.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }
}

/// SPEC §2 `trusted_proxies`: whose `X-Forwarded-For` is believed, and the client address that follows.
public struct TrustedProxies: Sendable {
    public let networks: [IPNetwork]
    /// `unix` was listed: believe `X-Forwarded-For` on the Unix socket.
    public let trustsUnixSocket: Bool

    /// - Parameter list: CIDRs, bare addresses and `unix`; entries that are none of these are ignored (the
    ///   configuration loader has already refused them).
    public init(_ list: [String]) {
        networks = list.compactMap { IPNetwork($0) }
        trustsUnixSocket = list.contains("unix")
    }

    /// No proxy is trusted.
    public static let none = TrustedProxies([])

    func trusts(_ address: IPAddress) -> Bool {
        networks.contains { $0.contains(address) }
    }

    /// The client's address: the peer, unless the peer is a trusted proxy; then the `X-Forwarded-For` hops are
    /// walked from the right (the hop the trusted proxy itself saw) leftwards over further trusted proxies, and
    /// the first untrusted hop is the client. Hops left of it were written by the client and are ignored, as is
    /// the whole header when the peer is not trusted. A malformed hop ends the walk at the last address known
    /// good, so nothing a client wrote reaches a log except a canonical address.
    ///
    /// - Parameters:
    ///   - peer: the TCP peer, or nil on the Unix socket.
    ///   - forwardedFor: the `X-Forwarded-For` field values, in order.
    /// - Returns: canonical address text, or `unix` for a Unix-socket client with no believed header.
    public func clientAddress(peer: IPAddress?, forwardedFor: [String]) -> ClientAddress {
        var current: ClientAddress = peer.map { ClientAddress.ip($0) } ?? .unixSocket
        if let peer {
            guard trusts(peer) else { return current }
        } else {
            guard trustsUnixSocket else { return current }
        }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingBlanks() }
        for hop in hops.reversed().prefix(64) {
            guard let address = IPAddress(hop) else { break }
            current = .ip(address)
            if !trusts(address) { break }
        }
        return current
    }
}

/// Where a request came from, as rate limits, sessions and logs see it.
public enum ClientAddress: Sendable, Hashable, CustomStringConvertible {
    case ip(IPAddress)
    /// A Unix-socket client with no believed `X-Forwarded-For`.
    case unixSocket

    public var description: String {
        switch self {
        case .ip(let address): address.description
        case .unixSocket: "unix"
        }
    }

    /// What per-address rate limits count against.
    public var rateLimitKey: String {
        switch self {
        case .ip(let address): address.rateLimitKey
        case .unixSocket: "unix"
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingBlanks() -> Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let start = drop(while: isBlank)
        var end = start.endIndex
        while end > start.startIndex, isBlank(start[start.index(before: end)]) { end = start.index(before: end) }
        return start[..<end]
    }
}
