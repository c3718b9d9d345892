import Glibc
import PorteroTestSupport
import Testing

@testable import Systemd

/// Opens sockets the way systemd would hand them over: bound, listening, without `FD_CLOEXEC`.
private enum Sockets {
    static func unixListener(at path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return bound == 0 && listen(fd, 8) == 0 ? fd : -1
    }

    static func inetListener() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return bound == 0 && listen(fd, 8) == 0 ? fd : -1
    }

    /// An `AF_INET6` socket, or `nil` where the machine has no IPv6.
    static func inet6Socket() -> Int32? {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        return fd >= 0 ? fd : nil
    }

    static func isCloseOnExec(_ fd: Int32) -> Bool {
        fcntl(fd, F_GETFD) & FD_CLOEXEC != 0
    }
}

@Suite("ListenFDs")
struct ListenFDsTests {
    @Test func describesFamiliesNamesAndSetsCloseOnExec() throws {
        let directory = try TestDirectory("systemd").path
        let path = directory + "/portero.sock"
        defer {
            unlink(path)
            rmdir(directory)
        }
        let unixFD = Sockets.unixListener(at: path)
        let inetFD = Sockets.inetListener()
        defer {
            close(unixFD)
            close(inetFD)
        }
        try #require(unixFD >= 0 && inetFD >= 0)
        #expect(!Sockets.isCloseOnExec(unixFD) && !Sockets.isCloseOnExec(inetFD))

        let sockets = ListenFDs.sockets(fds: [inetFD, unixFD], names: ["http", "unix"])

        #expect(
            sockets == [
                ListenedSocket(fd: inetFD, name: "http", family: .inet),
                ListenedSocket(fd: unixFD, name: "unix", family: .unix),
            ]
        )
        #expect(Sockets.isCloseOnExec(unixFD) && Sockets.isCloseOnExec(inetFD))
        #expect(sockets.socket(named: "http")?.fd == inetFD)
        #expect(sockets.socket(named: "unix")?.fd == unixFD)
    }

    @Test func inet6IsRecognised() throws {
        guard let fd = Sockets.inet6Socket() else { return }
        defer { close(fd) }
        #expect(ListenFDs.family(of: fd) == .inet6)
    }

    @Test func notASocketIsOtherFamily() {
        var pipeFDs: [Int32] = [0, 0]
        #expect(pipe(&pipeFDs) == 0)
        defer {
            close(pipeFDs[0])
            close(pipeFDs[1])
        }
        #expect(ListenFDs.family(of: pipeFDs[0]) == .other(0))
        #expect(ListenFDs.family(of: -1) == .other(0))
    }

    @Test func missingNamesBecomeUnknownAndFallBackByFamily() {
        let sockets = [
            ListenedSocket(fd: 3, name: "unknown", family: .unix),
            ListenedSocket(fd: 4, name: "unknown", family: .inet6),
        ]
        #expect(sockets.socket(named: "http")?.fd == 4)
        #expect(sockets.socket(named: "unix")?.fd == 3)
        #expect(sockets.socket(named: "metrics") == nil)

        let named = [
            ListenedSocket(fd: 3, name: "admin", family: .unix),
            ListenedSocket(fd: 4, name: "unix", family: .unix),
            ListenedSocket(fd: 5, name: "unknown", family: .inet),
        ]
        #expect(named.socket(named: "unix")?.fd == 4)
        #expect(named.socket(named: "http")?.fd == 5)

        let onlyNamedElse = [ListenedSocket(fd: 3, name: "admin", family: .unix)]
        #expect(onlyNamedElse.socket(named: "unix") == nil)
    }

    /// One socket unit with a path and a port: systemd names both after the unit, or both after its single
    /// `FileDescriptorName=`; the family decides.
    @Test func oneUnitWithBothSocketsIsSplitByFamily() {
        let unitNamed = [
            ListenedSocket(fd: 3, name: "portero.socket", family: .unix),
            ListenedSocket(fd: 4, name: "portero.socket", family: .inet),
        ]
        #expect(unitNamed.socket(named: "unix")?.fd == 3)
        #expect(unitNamed.socket(named: "http")?.fd == 4)

        let bothHTTP = [
            ListenedSocket(fd: 3, name: "http", family: .unix),
            ListenedSocket(fd: 4, name: "http", family: .inet),
        ]
        #expect(bothHTTP.socket(named: "http")?.fd == 4)
        #expect(bothHTTP.socket(named: "unix") == nil)
    }

    @Test func pairsNamesDefensively() {
        let described = ListenFDs.sockets(fds: [-1, -1], names: [""])
        #expect(described.map(\.name) == ["unknown", "unknown"])
    }

    @Test func takeWithoutActivationIsEmpty() {
        // The test runner is not socket-activated: LISTEN_PID is unset or names another process.
        #expect(ListenFDs.take().isEmpty)
    }
}
