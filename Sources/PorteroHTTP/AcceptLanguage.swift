import Foundation
public import PorteroCore

/// The `Accept-Language` request header (RFC 9110 §12.5.4).
public enum AcceptLanguage {
    /// The most tags read from one header.
    static let maxTags = 16

    /// The header's language tags, most wanted first (by `q`, then by order); `*`, `q=0`, malformed entries and tags
    /// Portero does not accept (``LanguageTag``) are left out. Empty for no header.
    public static func tags(_ header: String?) -> [LanguageTag] {
        guard let header, header.utf8.count <= 1024 else { return [] }
        var weighted: [(tag: LanguageTag, q: Double, index: Int)] = []
        for (index, entry) in header.split(separator: ",").prefix(maxTags).enumerated() {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, first != "*", let tag = LanguageTag(first) else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                if pair.count == 2, pair[0].lowercased() == "q" {
                    guard let value = Double(pair[1]), value >= 0, value <= 1 else { q = 0; break }
                    q = value
                }
            }
            if q > 0 { weighted.append((tag, q, index)) }
        }
        return weighted.sorted { $0.q != $1.q ? $0.q > $1.q : $0.index < $1.index }.map(\.tag)
    }
}
