import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run of the sendmail command: `posix_spawn`, feed standard input, collect output, wait, kill on timeout or
/// cancellation.
///
/// - Important: `run` blocks; call it on a Dispatch thread. `stop` may be called from any thread at any time. The
///   child is killed only while it has not been reaped (the exit is first observed with `WNOWAIT`), so a recycled
///   pid is never signalled.
final class SendmailProcess: Sendable {
    /// Why the child was killed.
    enum StopReason: Sendable, Equatable {
        case timedOut
        case cancelled
    }

    /// How the child ended.
    enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        case stopped(StopReason)
        /// The exit status could not be collected.
        case unknown(MailSystemError)
    }

    /// What `run` observed: the ending and the first bytes the command printed.
    struct Outcome: Sendable {
        var termination: Termination
        var output: [UInt8]
    }

    private enum State {
        case notStarted
        case abandoned(StopReason)
        case running(pid_t)
        case killed(StopReason)
        case exited
    }

    /// Where a program without a slash is looked up; also the child's whole environment.
    static let searchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// How much of the command's output is kept.
    private static let outputLimit = 2048

    private let arguments: [String]
    private let timeout: Duration
    private let state = Mutex<State>(.notStarted)

    init(arguments: [String], timeout: Duration) {
        self.arguments = arguments
        self.timeout = timeout
    }

    /// Kills the child if it is running, or makes `run` not start it.
    func stop(_ reason: StopReason) {
        state.withLock { state in
            switch state {
            case .notStarted:
                state = .abandoned(reason)
            case .running(let pid):
                _ = kill(pid, SIGKILL)
                state = .killed(reason)
            case .abandoned, .killed, .exited:
                break
            }
        }
    }

    /// Spawns the command, writes `input` to it, waits for it to end.
    func run(_ input: [UInt8]) throws(MailError) -> Outcome {
        let deadline = DispatchTime.after(timeout)
        let program = try resolveProgram()

        // Standard input: a socket, so a child that exits early gives EPIPE (MSG_NOSIGNAL), never SIGPIPE.
        // Standard output and error: a socket too. Both are created close-on-exec atomically.
        let stdinPair = try makeSocketPair()
        let outputPair: [Int32]
        do throws(MailError) {
            outputPair = try makeSocketPair()
        } catch {
            closeAll(stdinPair)
            throw error
        }

        let pid: pid_t
        do throws(MailError) {
            pid = try spawn(program, stdin: stdinPair[1], output: outputPair[1])
        } catch {
            closeAll(stdinPair + outputPair)
            throw error
        }
        closeAll([stdinPair[1], outputPair[1]])

        let timer = DispatchWorkItem { [self] in stop(.timedOut) }
        DispatchQueue.global().asyncAfter(deadline: deadline, execute: timer)
        defer { timer.cancel() }

        var collected: [UInt8] = []
        feed(input, to: stdinPair[0], reading: outputPair[0], into: &collected, deadline: deadline)
        // End of input: the child sees EOF now, even if it stopped reading early.
        closeAll([stdinPair[0]])
        let termination = wait(for: pid)
        drain(outputPair[0], into: &collected)
        closeAll([outputPair[0]])
        return Outcome(termination: termination, output: collected)
    }

    // MARK: - Spawning

    private func resolveProgram() throws(MailError) -> String {
        let name = arguments[0]
        if name.contains("/") { return name }
        for directory in Self.searchPath.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw MailError(.spawnFailed, "sendmail command \(name) not found in \(Self.searchPath)")
    }

    private func spawn(_ program: String, stdin: Int32, output: Int32) throws(MailError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        Self.addCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = [strdup("PATH=\(Self.searchPath)"), nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw spawnFailure(MailSystemError("posix_spawn", errno: result))
        }
        state.withLock { state in
            if case .abandoned(let reason) = state {
                _ = kill(pid, SIGKILL)
                state = .killed(reason)
            } else {
                state = .running(pid)
            }
        }
        return pid
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// glibc 2.34+ `posix_spawn_file_actions_addclosefrom_np`, looked up at run time (the Glibc module hides it).
    /// Closes descriptors that were not opened close-on-exec; without it (older libc) only close-on-exec protects.
    private static let closeFrom: CloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    private static func addCloseFrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) {
        if let closeFrom {
            _ = closeFrom(&actions, lowest)
        }
    }

    private func spawnFailure(_ cause: MailSystemError) -> MailError {
        MailError(.spawnFailed, "cannot start sendmail command \(arguments[0]): \(cause)", cause: cause)
    }

    // MARK: - Input and output

    /// Writes `bytes` to the child's standard input while collecting what it prints, until all is written, the
    /// child stops reading, or `deadline` passes (then the child is killed).
    private func feed(
        _ bytes: [UInt8],
        to stdinFD: Int32,
        reading outputFD: Int32,
        into collected: inout [UInt8],
        deadline: DispatchTime
    ) {
        _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
        _ = fcntl(outputFD, F_SETFL, fcntl(outputFD, F_GETFL) | O_NONBLOCK)
        var offset = 0
        var outputOpen = true
        while offset < bytes.count {
            let now = DispatchTime.now()
            guard now < deadline else {
                stop(.timedOut)
                return
            }
            let milliseconds = (deadline.uptimeNanoseconds - now.uptimeNanoseconds) / 1_000_000 + 1
            var fds = [pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)]
            if outputOpen {
                fds.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0))
            }
            let ready = poll(&fds, nfds_t(fds.count), Int32(clamping: milliseconds))
            if ready < 0 && errno != EINTR { return }
            if ready <= 0 { continue }
            if outputOpen && fds[1].revents != 0 {
                outputOpen = readSome(outputFD, into: &collected)
            }
            if fds[0].revents != 0 {
                let sent = bytes.withUnsafeBytes { buffer in
                    send(stdinFD, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent >= 0 {
                    offset += sent
                } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    // EPIPE or ECONNRESET: the child stopped reading; its exit status tells the rest.
                    return
                }
            }
        }
    }

    /// Reads what is available; false at end of file or on an error.
    private func readSome(_ fd: Int32, into collected: inout [UInt8]) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            let room = max(0, Self.outputLimit - collected.count)
            collected.append(contentsOf: buffer.prefix(min(room, count)))
            return true
        }
        return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    }

    /// After the child has exited: reads what is left without waiting for end of file (a grandchild may keep the
    /// pipe open), at most 64 KiB.
    private func drain(_ fd: Int32, into collected: inout [UInt8]) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        for _ in 0..<16 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            let room = max(0, Self.outputLimit - collected.count)
            collected.append(contentsOf: buffer.prefix(min(room, count)))
        }
    }

    // MARK: - Waiting

    /// Waits for the child to exit (observing it without reaping, so `stop` cannot signal a recycled pid), marks it
    /// exited, then reaps it.
    private func wait(for pid: pid_t) -> Termination {
        var info = siginfo_t()
        var observed: Int32
        repeat {
            observed = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
        } while observed != 0 && errno == EINTR
        let waitError = observed == 0 ? 0 : errno
        let reason: StopReason? = state.withLock { state in
            defer { state = .exited }
            if case .killed(let reason) = state { return reason }
            return nil
        }
        // ECHILD: someone else reaped it (SIGCHLD ignored, or a reaper calling waitpid(-1)); the status is lost.
        if waitError != 0 {
            return reason.map { .stopped($0) } ?? .unknown(MailSystemError("waitid", errno: waitError))
        }
        var status: Int32 = 0
        var reaped: pid_t
        repeat {
            reaped = waitpid(pid, &status, 0)
        } while reaped < 0 && errno == EINTR
        if let reason { return .stopped(reason) }
        if reaped < 0 { return .unknown(MailSystemError("waitpid", errno: errno)) }
        let signal = status & 0x7F
        if signal == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(signal)
    }

    // MARK: - Helpers

    private func closeAll(_ fds: [Int32]) {
        for fd in fds where fd >= 0 { _ = close(fd) }
    }

    private func makeSocketPair() throws(MailError) -> [Int32] {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw spawnFailure(MailSystemError("socketpair", errno: errno))
        }
        return pair
    }
}
