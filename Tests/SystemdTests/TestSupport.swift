import Glibc
import PorteroTestSupport
import Synchronization
import Testing

/// Collects what a sink was given, safely from any thread.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    func append(_ item: Element) {
        items.withLock { $0.append(item) }
    }

    var all: [Element] {
        items.withLock { $0 }
    }
}

/// The tests that set `NOTIFY_SOCKET` or `WATCHDOG_*`, which `sd_notify(3)` and `sd_watchdog_enabled(3)` read from
/// the process environment: nested here so that they run one at a time.
@Suite("Process environment of sd_notify", .serialized)
enum NotifyEnvironmentTests {}

/// Runs `body` with the given environment variables set (`nil`: unset), then restores what was there before.
///
/// - Important: The environment belongs to the whole test process: call this only from a suite nested in
///   ``NotifyEnvironmentTests``.
func withEnvironment(_ values: [String: String?], _ body: () async throws -> Void) async rethrows {
    var previous: [String: String?] = [:]
    for (name, value) in values {
        previous[name] = getenv(name).map { String(cString: $0) }
        if let value {
            setenv(name, value, 1)
        } else {
            unsetenv(name)
        }
    }
    defer {
        for (name, value) in previous {
            if let value {
                setenv(name, value, 1)
            } else {
                unsetenv(name)
            }
        }
    }
    try await body()
}
