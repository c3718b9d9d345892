/// Counts listeners that are accepting; `READY=1` waits for all of them.
actor Readiness {
    private let expected: Int
    private var running: [String] = []
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(expected: Int) {
        self.expected = expected
    }

    /// Called by each listener once it accepts connections.
    func listenerRunning(_ name: String) {
        running.append(name)
        if running.count >= expected {
            for waiter in waiters { waiter.resume() }
            waiters.removeAll()
        }
    }

    /// Returns once every expected listener runs.
    func waitUntilReady() async {
        if running.count >= expected { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
