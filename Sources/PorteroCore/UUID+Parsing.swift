public import Foundation

extension UUID {
    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex digits of either case) and nothing else. Foundation's
    /// `UUID(uuidString:)` on Linux goes through `sscanf`, which costs more on every token check (a `sub` and a
    /// `sid` per request) and is more lenient (it read "é621e1f8-…" as "0621e1f8-…").
    public init?(parsing text: some StringProtocol) {
        var bytes:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &bytes) { output -> Bool in
            var utf8 = text.utf8.makeIterator()
            var position = 0
            var count = 0
            while let high = utf8.next() {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    guard high == UInt8(ascii: "-") else { return false }
                    position += 1
                    continue
                }
                guard count < 16, let upper = Self.hexValue(high), let next = utf8.next(),
                    let lower = Self.hexValue(next)
                else { return false }
                output[count] = upper << 4 | lower
                count += 1
                position += 2
            }
            return count == 16 && position == 36
        }
        guard parsed else { return nil }
        self.init(uuid: bytes)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
