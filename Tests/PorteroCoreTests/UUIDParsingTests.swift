import Foundation
import PorteroCore
import Testing

/// `UUID(parsing:)` reads every spelling Foundation writes as Foundation does, and refuses everything else. It is
/// stricter than Foundation's `UUID(uuidString:)` on Linux, which (through `sscanf`) read "é621e1f8-…" as
/// "0621e1f8-…".
@Suite("UUID parsing")
struct UUIDParsingTests {
    @Test("reads UUIDs in either case as Foundation does")
    func agrees() {
        var candidates = ["00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"]
        for _ in 0..<200 {
            let uuid = UUID()
            candidates += [uuid.uuidString, uuid.uuidString.lowercased()]
        }
        for candidate in candidates {
            #expect(UUID(parsing: candidate) != nil && UUID(parsing: candidate) == UUID(uuidString: candidate))
        }
    }

    @Test("refuses anything but 32 hex digits with dashes after the 8th, 12th, 16th and 20th")
    func refuses() {
        let refused = [
            "", "-", "e621e1f8c36c495a93fc0c247a3e6e5f", "e621e1f8-c36c-495a-93fc-0c247a3e6e5",
            "e621e1f8-c36c-495a-93fc-0c247a3e6e5f0", "e621e1f8-c36c-495a-93fc-0c247a3e6e5g",
            "e621e1f8-c36c-495a-93fc_0c247a3e6e5f", "e621e1f-8c36c-495a-93fc-0c247a3e6e5f",
            " e621e1f8-c36c-495a-93fc-0c247a3e6e5f", "e621e1f8-c36c-495a-93fc-0c247a3e6e5f ",
            "{e621e1f8-c36c-495a-93fc-0c247a3e6e5f}", "e621e1f8--c36c-495a-93fc-0c247a3e6e5f",
            "é621e1f8-c36c-495a-93fc-0c247a3e6e5f", "+621e1f8-c36c-495a-93fc-0c247a3e6e5f",
            "0x21e1f8-c36c-495a-93fc-0c247a3e6e5f",
        ]
        for candidate in refused {
            #expect(UUID(parsing: candidate) == nil, "\(candidate)")
        }
    }
}
