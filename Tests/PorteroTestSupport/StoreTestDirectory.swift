import Foundation
import Glibc

/// A fresh directory under the temporary directory for one test; `remove()` deletes it and everything in it.
public struct StoreTestDirectory: Sendable {
    /// Absolute path of the directory.
    public let path: String

    /// Creates `<tmp>/portero-store-<name>-XXXXXX`.
    public init(_ name: String = "test") throws {
        let base = FileManager.default.temporaryDirectory.path
        let safe = name.map { $0.isLetter || $0.isNumber ? $0 : "-" }
        var template = Array("\(base)/portero-store-\(String(safe.prefix(40)))-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown)
        }
        path = String(cString: made)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String {
        path + "/" + name
    }

    /// The names in the directory, sorted.
    public func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// Deletes the directory and its contents.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
