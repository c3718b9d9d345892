import Foundation

/// What a finished command printed.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// The built `portero` binary run as a real child process.
///
/// Not `Sendable`: each instance belongs to the one test that made it.
public final class PorteroProcess {
    /// `TEST_PORTERO_BINARY`, else `portero` next to the test bundle (both live in `.build/<config>/`).
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["TEST_PORTERO_BINARY"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // swift-testing on Linux runs `<name>.xctest` directly; walk up until `portero` is found.
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("portero").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return executable.deletingLastPathComponent().appendingPathComponent("portero").path
    }

    /// The parent's environment without `PORTERO_*` (the daemon refuses unknown ones) and without systemd's
    /// variables, so a test never inherits a socket or a journal by accident.
    public static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            !key.hasPrefix("PORTERO_")
                && ![
                    "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                    "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID", "STATE_DIRECTORY", "RUNTIME_DIRECTORY",
                    "CREDENTIALS_DIRECTORY",
                ].contains(key)
        }
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// Runs `portero <arguments>` to completion.
    public static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60))
        async throws -> CommandResult
    {
        try await runProgram(binaryPath, arguments, environment: cleanEnvironment(environment), timeout: timeout)
    }

    /// Runs any program to completion with exactly `environment`, collecting its output.
    public static func runProgram(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        timeout: Duration = .seconds(60)
    ) async throws -> CommandResult {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        _ = FileManager.default.createFile(atPath: directory.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: directory.file("err"), contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("out")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("err")))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw TestClientError("\(executable) \(arguments.joined(separator: " ")) did not finish in \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return CommandResult(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: directory.file("out"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: directory.file("err"), encoding: .utf8)) ?? ""
        )
    }

    public let directory: TestDirectory
    public let dataDirectory: String
    public let port: Int?
    public let socketPath: String?
    public var arguments: [String]
    public var environment: [String: String]
    private var process: Process?
    private var launches = 0

    /// - Parameters:
    ///   - directory: where data, socket and logs go; a new one when nil.
    ///   - tcp: listen on a free loopback port.
    ///   - unix: listen on `<directory>/p.sock`.
    ///   - arguments: extra `serve` flags.
    ///   - environment: extra environment.
    public init(
        directory: TestDirectory? = nil,
        tcp: Bool = true,
        unix: Bool = true,
        arguments: [String] = [],
        environment: [String: String] = [:]
    ) throws {
        let directory = try directory ?? TestDirectory()
        self.directory = directory
        self.dataDirectory = directory.file("data")
        self.port = tcp ? try Self.freePort() : nil
        self.socketPath = unix ? directory.file("p.sock") : nil
        self.arguments = arguments
        self.environment = environment
    }

    public var tcp: TestEndpoint {
        get throws {
            guard let port else { throw TestClientError("no TCP listener configured") }
            return .tcp(host: "127.0.0.1", port: port)
        }
    }

    public var unix: TestEndpoint {
        get throws {
            guard let socketPath else { throw TestClientError("no Unix socket configured") }
            return .unix(path: socketPath)
        }
    }

    /// The first configured endpoint.
    public var endpoint: TestEndpoint {
        get throws { try port != nil ? tcp : unix }
    }

    public var logPath: String { directory.file("stderr-\(launches).log") }

    /// Everything the daemon wrote to stderr, all launches.
    public var stderrText: String {
        (1...max(1, launches)).compactMap {
            try? String(contentsOfFile: directory.file("stderr-\($0).log"), encoding: .utf8)
        }
        .joined()
    }

    public var pid: Int32? { process?.processIdentifier }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// Starts `portero serve` (again, after a stop or kill).
    public func start() throws {
        launches += 1
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binaryPath)
        var serve = [
            "serve", "--data-dir", dataDirectory, "--listen", port.map { "127.0.0.1:\($0)" } ?? "",
            "--socket", socketPath ?? "", "--log-format", "json", "--mail-transport", "maildir",
        ]
        serve += arguments
        process.arguments = serve
        // The host's /etc/portero/templates must not change what a test's mail says.
        process.environment = Self.cleanEnvironment(
            ["PORTERO_MAIL_TEMPLATES": directory.file("templates")].merging(environment) { _, given in given })
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = process.standardError
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// Starts and waits until `/readyz` answers 200 on every endpoint.
    public func startAndWait(timeout: Duration = .seconds(30)) async throws {
        try start()
        try await waitUntilReady(timeout: timeout)
    }

    /// Waits until `/readyz` answers 200 on every configured endpoint (polling, bounded).
    public func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        var endpoints: [TestEndpoint] = []
        if port != nil { endpoints.append(try tcp) }
        if socketPath != nil { endpoints.append(try unix) }
        for endpoint in endpoints {
            while true {
                if let response = try? await HTTPTestClient.request("GET", "/readyz", to: endpoint, timeout: 2),
                    response.status == 200
                {
                    break
                }
                guard isRunning else {
                    throw TestClientError("portero exited with \(process?.terminationStatus ?? -1): \(stderrText)")
                }
                guard ContinuousClock.now < deadline else {
                    throw TestClientError("portero not ready on \(endpoint) within \(timeout): \(stderrText)")
                }
                try await Task.sleep(for: .milliseconds(25))
            }
        }
    }

    /// Sends `signal` (SIGTERM, SIGKILL, …).
    public func signal(_ signal: Int32) {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit; returns its status (or the signal number for a signal death).
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        guard let process else { throw TestClientError("not started") }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw TestClientError("portero did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// SIGTERM and wait; SIGKILL if it does not stop.
    public func stop() async {
        signal(SIGTERM)
        if (try? await waitForExit(timeout: .seconds(15))) == nil {
            signal(SIGKILL)
            _ = try? await waitForExit(timeout: .seconds(5))
        }
    }

    /// Stops the daemon (if running) and removes its directory.
    public func cleanUp() async {
        await stop()
        directory.remove()
    }

    /// A loopback port nobody listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw TestClientError("bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Starts a daemon, runs `body`, and always stops it and removes its directory afterwards.
public func withDaemon<T>(
    arguments: [String] = [],
    environment: [String: String] = [:],
    tcp: Bool = true,
    unix: Bool = true,
    _ body: (PorteroProcess) async throws -> T
) async throws -> T {
    let daemon = try PorteroProcess(tcp: tcp, unix: unix, arguments: arguments, environment: environment)
    do {
        try await daemon.startAndWait()
        let result = try await body(daemon)
        await daemon.cleanUp()
        return result
    } catch {
        await daemon.cleanUp()
        throw error
    }
}
