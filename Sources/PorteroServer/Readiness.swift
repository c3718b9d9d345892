/// Counts listeners that are accepting (and other parts that must be up, such as the SIGHUP trap); `READY=1` waits
/// for all of them.
actor Readiness {
    private let expected: Int
    private var running: [String] = []
    private var othersUp = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// - Parameter expected: How many listeners and other parts will report before the daemon is ready.
    init(expected: Int) {
        self.expected = expected
    }

    /// The listeners accepting connections, as they said themselves: TCP addresses first, then socket paths.
    var listeners: [String] {
        running.sorted { ($0.hasPrefix("/") ? 1 : 0, $0) < ($1.hasPrefix("/") ? 1 : 0, $1) }
    }

    /// Called by each listener once it accepts connections.
    func listenerRunning(_ name: String) {
        running.append(name)
        resumeIfReady()
    }

    /// Called by a part other than a listener once it is up.
    func partUp() {
        othersUp += 1
        resumeIfReady()
    }

    /// Returns once every expected listener and part runs.
    func waitUntilReady() async {
        if isReady { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private var isReady: Bool { running.count + othersUp >= expected }

    private func resumeIfReady() {
        guard isReady else { return }
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}
