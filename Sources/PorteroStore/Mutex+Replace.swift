import Synchronization

extension Mutex where Value: Sendable {
    /// Replaces the value; the old one is released after the lock, not under it (the last reference to a large
    /// state frees its tables).
    func replace(with value: Value) {
        var replaced = value
        withLock { swap(&$0, &replaced) }
    }
}
