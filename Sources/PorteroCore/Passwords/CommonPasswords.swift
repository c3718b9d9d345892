// The common-password list compiled into the binary (SPEC §3 "Passwords:").
//
// The list itself is `common-passwords.txt` beside this file, one entry per line, embedded into the binary by
// SwiftPM's `.embedInCode` resource rule (see Package.swift): the daemon stays one file, with no resource bundle
// to ship next to it. SwiftPM generates `PackageResources.common_passwords_txt`, a static `[UInt8]`.
//
// Source: `/usr/share/john/password.lst` from Debian's `john-data` 1.9.0-2 (John the Ripper's wordlist, compiled by
// Solar Designer of the Openwall Project, 1996–2011, 3546 entries, most common first). Licence: the file's own
// header says "It is assumed to be in the public domain."; Debian's `copyright` file has no stanza of its own for it.
//
// Kept: entries of at least 4 characters, NFKC-normalised, lower-cased and deduplicated, in the original order
// (3327 entries): in Python, `unicodedata.normalize("NFKC", line).lower()` for each line not starting with `#!comment`,
// kept if `len(...) >= 4` and not seen before.

/// The list of passwords refused as too common.
enum CommonPasswords {
    /// Whether `candidate` is on the list; `candidate` must already be NFKC-normalised and lower-cased.
    static func contains(_ candidate: String) -> Bool {
        entries.contains(candidate)
    }

    /// Whether `candidate` is a listed password, or one with digits and punctuation tacked on or in front
    /// (`password123`, `dragon2024!`, `1qwerty`): the commonest way of "strengthening" a listed word.
    static func isCommon(_ candidate: String) -> Bool {
        if entries.contains(candidate) { return true }
        let isFiller: (Character) -> Bool = { $0.isNumber || $0.isPunctuation || $0.isSymbol || $0 == " " }
        let core = String(candidate.drop(while: isFiller).reversed().drop(while: isFiller).reversed())
        return core.count >= 4 && core != candidate && entries.contains(core)
    }

    /// How many entries the list has.
    static var count: Int { entries.count }

    /// The entries, parsed once on first use (a `static let` is initialised lazily and thread-safely): one per
    /// line of the embedded UTF-8 text; empty lines (the final newline) are skipped.
    private static let entries: Set<String> = Set(
        String(decoding: PackageResources.common_passwords_txt, as: UTF8.self)
            .split(separator: "\n")
            .map(String.init)
    )
}
