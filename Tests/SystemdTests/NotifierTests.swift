import Glibc
import PorteroTestSupport
import Testing

@testable import Systemd

extension NotifyEnvironmentTests {
    /// What ``Notifier`` hands to `sd_notify(3)` arrives, byte for byte, at a real `AF_UNIX` datagram socket named
    /// by `NOTIFY_SOCKET`; the watchdog interval is what `sd_watchdog_enabled(3)` makes of `WATCHDOG_*`.
    @Suite("Notifier through libsystemd")
    struct NotifierTests {
        @Test func readyCarriesStatusOnOneLine() async throws {
            let listener = try DatagramListener()
            try await withEnvironment(["NOTIFY_SOCKET": listener.path]) {
                #expect(Notifier().ready(status: "serving 2 users\non 127.0.0.1:5500\r") == .sent)
                let message = try #require(await listener.receive())
                #expect(message == "READY=1\nSTATUS=serving 2 users on 127.0.0.1:5500 ")
            }
        }

        @Test func statusWatchdogAndStoppingArrive() async throws {
            let listener = try DatagramListener()
            await withEnvironment(["NOTIFY_SOCKET": listener.path]) {
                let notifier = Notifier()
                #expect(notifier.status("loading store") == .sent)
                #expect(await listener.receive() == "STATUS=loading store")
                #expect(notifier.watchdog() == .sent)
                #expect(await listener.receive() == "WATCHDOG=1")
                #expect(notifier.stopping() == .sent)
                #expect(await listener.receive() == "STOPPING=1")
                #expect(notifier.ready() == .sent)
                #expect(await listener.receive() == "READY=1")
            }
        }

        @Test func reloadingCarriesMonotonicMicroseconds() async throws {
            let listener = try DatagramListener()
            try await withEnvironment(["NOTIFY_SOCKET": listener.path]) {
                let before = Notifier.monotonicMicroseconds()
                #expect(Notifier().reloading() == .sent)
                let after = Notifier.monotonicMicroseconds()

                let fields = notifyAssignments(try #require(await listener.receive()))
                #expect(fields.keys.sorted() == ["MONOTONIC_USEC", "RELOADING"])
                #expect(fields["RELOADING"] == "1")
                let usec = try #require(fields["MONOTONIC_USEC"].flatMap(UInt64.init))
                #expect((before...after).contains(usec))
            }
        }

        @Test func withoutSocketEverythingIsANoOp() async {
            await withEnvironment(["NOTIFY_SOCKET": nil, "WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
                let notifier = Notifier()
                #expect(notifier.ready(status: "x") == .disabled)
                #expect(notifier.status("x") == .disabled)
                #expect(notifier.watchdog() == .disabled)
                #expect(notifier.reloading() == .disabled)
                #expect(notifier.stopping() == .disabled)
                #expect(notifier.watchdogInterval == nil)
            }
        }

        @Test func failuresAreReportedNotThrown() async throws {
            await withEnvironment(["NOTIFY_SOCKET": "/nonexistent/portero/notify.sock"]) {
                #expect(Notifier().watchdog() == .failed(errno: ENOENT))
            }
            await withEnvironment(["NOTIFY_SOCKET": "relative/path"]) {
                #expect(Notifier().watchdog() == .failed(errno: EINVAL))
            }
            let listener = try DatagramListener()
            await withEnvironment(["NOTIFY_SOCKET": listener.path]) {
                #expect(Notifier().send("STATUS=a\0b") == .failed(errno: EINVAL))
                #expect(Notifier().send("") == .failed(errno: EINVAL))
            }
            #expect(listener.receiveNow() == nil)
        }

        @Test(
            "WATCHDOG_USEC and WATCHDOG_PID",
            arguments: [
                (["WATCHDOG_USEC": "30000000"], Duration.seconds(30)),
                (["WATCHDOG_USEC": "2500000", "WATCHDOG_PID": "\(getpid())"], Duration.milliseconds(2500)),
                (["WATCHDOG_USEC": "2500000", "WATCHDOG_PID": "\(getpid() + 1)"], nil),
                (["WATCHDOG_USEC": "2500000", "WATCHDOG_PID": "not-a-pid"], nil),
                (["WATCHDOG_USEC": "0"], nil),
                (["WATCHDOG_USEC": "soon"], nil),
                ([:], nil),
            ] as [([String: String], Duration?)]
        )
        func watchdogInterval(environment: [String: String], expected: Duration?) async {
            var values: [String: String?] = ["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]
            for (name, value) in environment { values[name] = value }
            await withEnvironment(values) {
                #expect(Notifier().watchdogInterval == expected)
            }
        }
    }
}
