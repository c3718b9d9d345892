import Foundation

/// A fresh directory for one test under /tmp, with a short path (Unix socket paths are limited to 107 bytes);
/// `remove()` deletes it and everything in it.
public struct TestDirectory: Sendable {
    /// Absolute path of the directory.
    public let path: String

    /// Creates `/tmp/portero-<label>-XXXXXX`.
    public init(_ label: String = "test") throws {
        let safe = String(label.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(32))
        var template = Array("/tmp/portero-\(safe)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw TestClientError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        self.path = String(cString: made)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` with `permissions`; returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String, permissions: Int = 0o644) throws -> String {
        let target = file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: target)
        return target
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

/// Polls `condition` every 5 ms until it holds or `timeout` passes; returns whether it held.
public func waitUntil(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try condition()
}
