import Glibc
import PorteroTestSupport
import Testing

@testable import Systemd

@Suite("Notifier against a real AF_UNIX datagram socket")
struct NotifierTests {
    @Test func readyCarriesStatusOnOneLine() async throws {
        let listener = try DatagramListener()
        let notifier = Notifier(socketPath: listener.path)

        #expect(notifier.ready(status: "serving 2 users\non 127.0.0.1:5500\r") == .sent)

        let message = try #require(await listener.receive())
        #expect(message == "READY=1\nSTATUS=serving 2 users on 127.0.0.1:5500 ")
    }

    @Test func statusWatchdogAndStoppingArrive() async throws {
        let listener = try DatagramListener()
        let notifier = Notifier(socketPath: listener.path)

        #expect(notifier.status("loading store") == .sent)
        #expect(await listener.receive() == "STATUS=loading store")
        #expect(notifier.watchdog() == .sent)
        #expect(await listener.receive() == "WATCHDOG=1")
        #expect(notifier.stopping() == .sent)
        #expect(await listener.receive() == "STOPPING=1")
        #expect(notifier.ready() == .sent)
        #expect(await listener.receive() == "READY=1")
    }

    @Test func reloadingCarriesMonotonicMicroseconds() async throws {
        let listener = try DatagramListener()
        let notifier = Notifier(socketPath: listener.path)

        let before = Notifier.monotonicMicroseconds()
        #expect(notifier.reloading() == .sent)
        let after = Notifier.monotonicMicroseconds()

        let fields = notifyAssignments(try #require(await listener.receive()))
        #expect(fields.keys.sorted() == ["MONOTONIC_USEC", "RELOADING"])
        #expect(fields["RELOADING"] == "1")
        let usec = try #require(fields["MONOTONIC_USEC"].flatMap(UInt64.init))
        #expect((before...after).contains(usec))
    }

    @Test func abstractSocketNamesWork() async throws {
        let listener = try DatagramListener(abstract: true)
        #expect(listener.path.hasPrefix("@"))
        let notifier = Notifier(environment: ["NOTIFY_SOCKET": listener.path])

        #expect(notifier.watchdog() == .sent)
        #expect(await listener.receive() == "WATCHDOG=1")
    }

    @Test func environmentInitializerReadsNotifySocket() async throws {
        let listener = try DatagramListener()
        let notifier = Notifier(environment: ["NOTIFY_SOCKET": listener.path])

        #expect(notifier.socketPath == listener.path)
        #expect(notifier.ready(status: "up") == .sent)
        #expect(await listener.receive() == "READY=1\nSTATUS=up")
    }

    @Test func withoutSocketEverythingIsANoOp() {
        for notifier in [Notifier(socketPath: nil), Notifier(environment: [:])] {
            #expect(notifier.ready(status: "x") == .disabled)
            #expect(notifier.status("x") == .disabled)
            #expect(notifier.watchdog() == .disabled)
            #expect(notifier.reloading() == .disabled)
            #expect(notifier.stopping() == .disabled)
            #expect(notifier.watchdogInterval == nil)
        }
    }

    @Test func failuresAreReportedNotThrown() throws {
        #expect(Notifier(socketPath: "relative/path").watchdog() == .failed(errno: EINVAL))
        #expect(Notifier(socketPath: "").watchdog() == .failed(errno: EINVAL))
        #expect(Notifier(socketPath: "@").watchdog() == .failed(errno: EINVAL))
        let tooLong = "/" + String(repeating: "a", count: 200)
        #expect(Notifier(socketPath: tooLong).watchdog() == .failed(errno: EINVAL))
        #expect(Notifier(socketPath: "/nonexistent/portero/notify.sock").watchdog() == .failed(errno: ENOENT))

        let listener = try DatagramListener()
        #expect(Notifier(socketPath: listener.path).send("STATUS=a\0b") == .failed(errno: EINVAL))
        #expect(Notifier(socketPath: listener.path).send("") == .failed(errno: EINVAL))
        #expect(listener.receiveNow() == nil)
    }

    @Test(
        "WATCHDOG_USEC and WATCHDOG_PID",
        arguments: [
            (["WATCHDOG_USEC": "30000000"], Duration.seconds(30)),
            (["WATCHDOG_USEC": "2500000", "WATCHDOG_PID": "4242"], Duration.milliseconds(2500)),
            (["WATCHDOG_USEC": "2500000", "WATCHDOG_PID": "4243"], nil),
            (["WATCHDOG_USEC": "2500000", "WATCHDOG_PID": "not-a-pid"], nil),
            (["WATCHDOG_USEC": "0"], nil),
            (["WATCHDOG_USEC": "-5"], nil),
            (["WATCHDOG_USEC": "soon"], nil),
            ([:], nil),
        ] as [([String: String], Duration?)]
    )
    func watchdogInterval(environment: [String: String], expected: Duration?) {
        #expect(Notifier(environment: environment, processID: 4242).watchdogInterval == expected)
    }

    @Test func watchdogPidDefaultsToThisProcess() {
        let notifier = Notifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "\(getpid())"])
        #expect(notifier.watchdogInterval == .seconds(1))
    }
}
