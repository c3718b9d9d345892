import Logging
import ServiceLifecycle
import Synchronization
import PorteroTestSupport
import Testing

@testable import Systemd

/// Counts probe calls from any task.
final class ProbeCounter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() {
        count.add(1, ordering: .relaxed)
    }

    var value: Int {
        count.load(ordering: .relaxed)
    }
}

extension NotifyEnvironmentTests {
    @Suite("WatchdogService")
    struct WatchdogServiceTests {
        private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

        /// Runs `service` in a `ServiceGroup`, hands control to `body`, then shuts the group down gracefully and
        /// checks that the service ended.
        private func withRunning(_ service: WatchdogService, _ body: () async throws -> Void) async throws {
            let group = ServiceGroup(services: [service], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }

        @Test func healthyProbeSendsWatchdogPings() async throws {
            let listener = try DatagramListener()
            let probes = ProbeCounter()
            // Generous interval and probe timeout: the whole suite shares two cores, and a probe scheduled late
            // (rightly) sends nothing.
            try await withEnvironment(["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": nil])
            {
                let service = WatchdogService(notifier: Notifier(), probeTimeout: .seconds(2), logger: logger) {
                    probes.increment()
                    return true
                }
                try await withRunning(service) {
                    #expect(await listener.receive(timeout: .seconds(15)) == "WATCHDOG=1")
                    #expect(await listener.receive(timeout: .seconds(15)) == "WATCHDOG=1")
                }
            }
            #expect(probes.value >= 2)
        }

        @Test func hangingProbeSendsNothing() async throws {
            let listener = try DatagramListener()
            let probes = ProbeCounter()
            try await withEnvironment(["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": nil])
            {
                let service = WatchdogService(notifier: Notifier(), logger: logger) {
                    probes.increment()
                    try? await Task.sleep(for: .seconds(3600))
                    return true
                }
                try await withRunning(service) {
                    // Three probes have begun, so at least two have timed out (50 ms each, at 100 ms intervals).
                    #expect(await waitUntil(timeout: .seconds(60)) { probes.value >= 3 })
                    #expect(listener.receiveNow() == nil)
                }
            }
            #expect(listener.receiveNow() == nil)
        }

        @Test func unhealthyProbeSendsNothing() async throws {
            let listener = try DatagramListener()
            let probes = ProbeCounter()
            try await withEnvironment(["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": nil])
            {
                let service = WatchdogService(notifier: Notifier(), logger: logger) {
                    probes.increment()
                    return false
                }
                try await withRunning(service) {
                    #expect(await waitUntil(timeout: .seconds(60)) { probes.value >= 3 })
                }
            }
            #expect(listener.receiveNow() == nil)
        }

        @Test func withoutWatchdogItWaitsForShutdown() async throws {
            let listener = try DatagramListener()
            let probes = ProbeCounter()
            try await withEnvironment(["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
                let service = WatchdogService(notifier: Notifier(), logger: logger) {
                    probes.increment()
                    return true
                }
                try await withRunning(service) {}
            }
            #expect(probes.value == 0)
            #expect(listener.receiveNow() == nil)
        }

        @Test func probeTimeoutRacesTheProbe() async {
            let slow: @Sendable () async -> Bool = {
                try? await Task.sleep(for: .seconds(3600))
                return true
            }
            #expect(await WatchdogService.isHealthy(slow, timeout: .milliseconds(20)) == false)
            #expect(await WatchdogService.isHealthy({ true }, timeout: .seconds(60)) == true)
            #expect(await WatchdogService.isHealthy({ false }, timeout: .seconds(60)) == false)
        }
    }
}
