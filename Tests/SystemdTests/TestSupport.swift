import Glibc
import PorteroTestSupport
import Synchronization

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

