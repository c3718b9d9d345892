import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One HTTP/1.1 POST over a POSIX stream socket (TCP or `AF_UNIX`), with `Connection: close` and one deadline for
/// connecting, sending and reading the status line.
///
/// - Important: `send()` blocks; call it on a Dispatch thread. Only the status line is interpreted; the response
///   body is neither read to its end nor reported.
struct HTTPPost: Sendable {
    let endpoint: WebhookMailer.Endpoint
    let path: String
    let host: String
    let body: [UInt8]
    let timeout: Duration

    /// The most of the response read while looking for the end of its header.
    private static let responseLimit = 16 * 1024

    /// Sends the request; returns the final (non-1xx) HTTP status code.
    func send() throws(MailError) -> Int {
        let deadline = DispatchTime.after(timeout)
        let fd = try connect(deadline: deadline)
        defer { _ = close(fd) }
        try write(request(), to: fd, deadline: deadline)
        return try readStatus(from: fd, deadline: deadline)
    }

    private func request() -> [UInt8] {
        let head =
            "POST \(path) HTTP/1.1\r\n"
            + "Host: \(host)\r\n"
            + "User-Agent: portero\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\n"
            + "Connection: close\r\n"
            + "\r\n"
        return Array(head.utf8) + body
    }

    private var name: String {
        switch endpoint {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unix(let path): path
        }
    }

    private func failure(_ what: String, _ cause: MailSystemError) -> MailError {
        MailError(.connectionFailed, "mail webhook \(name): \(what): \(cause)", cause: cause)
    }

    private func timedOut(_ what: String) -> MailError {
        MailError(.timedOut, "mail webhook \(name): no answer within \(timeout) while \(what)")
    }

    // MARK: - Connecting

    private func connect(deadline: DispatchTime) throws(MailError) -> Int32 {
        switch endpoint {
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
            }
            let fd = try openSocket(family: AF_UNIX, protocol: 0)
            do throws(MailError) {
                try withUnsafeBytes(of: &address) { raw throws(MailError) in
                    let pointer = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
                    try connect(fd, pointer, socklen_t(MemoryLayout<sockaddr_un>.size), deadline: deadline)
                }
                return fd
            } catch {
                _ = close(fd)
                throw error
            }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICSERV
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let first = list else {
                let reason = String(cString: gai_strerror(status))
                throw MailError(.connectionFailed, "mail webhook \(name): cannot resolve \(host): \(reason)")
            }
            defer { freeaddrinfo(list) }
            var lastError = MailError(.connectionFailed, "mail webhook \(name): no address to connect to")
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let current = entry {
                entry = current.pointee.ai_next
                guard let address = current.pointee.ai_addr else { continue }
                do throws(MailError) {
                    let fd = try openSocket(family: current.pointee.ai_family, protocol: current.pointee.ai_protocol)
                    do throws(MailError) {
                        try connect(fd, address, current.pointee.ai_addrlen, deadline: deadline)
                        return fd
                    } catch {
                        _ = close(fd)
                        throw error
                    }
                } catch {
                    if error.code == .timedOut { throw error }
                    lastError = error
                }
            }
            throw lastError
        }
    }

    private func openSocket(family: Int32, protocol: Int32) throws(MailError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = socket(family, type, `protocol`)
        guard fd >= 0 else { throw failure("socket", MailSystemError("socket", errno: errno)) }
        return fd
    }

    private func connect(
        _ fd: Int32,
        _ address: UnsafePointer<sockaddr>,
        _ length: socklen_t,
        deadline: DispatchTime
    ) throws(MailError) {
        #if canImport(Glibc)
            let result = Glibc.connect(fd, address, length)
        #else
            let result = Darwin.connect(fd, address, length)
        #endif
        if result == 0 { return }
        guard errno == EINPROGRESS || errno == EINTR else {
            throw failure("cannot connect", MailSystemError("connect", errno: errno))
        }
        try waitFor(Int16(POLLOUT), on: fd, deadline: deadline, doing: "connecting")
        var socketError: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &size) == 0 else {
            throw failure("cannot connect", MailSystemError("getsockopt", errno: errno))
        }
        if socketError != 0 {
            throw failure("cannot connect", MailSystemError("connect", errno: socketError))
        }
    }

    // MARK: - I/O

    /// Polls `fd` for `events` until it is ready or `deadline` passes.
    private func waitFor(_ events: Int16, on fd: Int32, deadline: DispatchTime, doing what: String) throws(MailError) {
        while true {
            let now = DispatchTime.now()
            guard now < deadline else { throw timedOut(what) }
            let milliseconds = (deadline.uptimeNanoseconds - now.uptimeNanoseconds) / 1_000_000 + 1
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: milliseconds))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw failure(what, MailSystemError("poll", errno: errno))
            }
        }
    }

    private func write(_ bytes: [UInt8], to fd: Int32, deadline: DispatchTime) throws(MailError) {
        var offset = 0
        while offset < bytes.count {
            try waitFor(Int16(POLLOUT), on: fd, deadline: deadline, doing: "sending the request")
            let sent = bytes.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                    Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                #else
                    Darwin.send(fd, buffer.baseAddress! + offset, buffer.count - offset, 0)
                #endif
            }
            if sent >= 0 {
                offset += sent
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                throw failure("cannot send the request", MailSystemError("send", errno: errno))
            }
        }
    }

    /// Reads until a final status line and its header are complete; returns the status code.
    private func readStatus(from fd: Int32, deadline: DispatchTime) throws(MailError) -> Int {
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            while let headerEnd = Self.headerEnd(in: response) {
                let status = try Self.status(of: response[..<headerEnd], from: name)
                if status >= 200 { return status }
                response.removeFirst(headerEnd)  // a 1xx interim response: the final one follows
            }
            guard response.count < Self.responseLimit else {
                throw MailError(.badResponse, "mail webhook \(name) answered a header over 16 KiB")
            }
            try waitFor(Int16(POLLIN), on: fd, deadline: deadline, doing: "waiting for the response")
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                response.append(contentsOf: chunk.prefix(count))
            } else if count == 0 {
                // Closed early: a complete status line is still an answer.
                if let lineEnd = Self.find([13, 10], in: response) {
                    return try Self.status(of: response[..<lineEnd], from: name)
                }
                throw MailError(.badResponse, "mail webhook \(name) closed the connection without an HTTP answer")
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                throw failure("cannot read the response", MailSystemError("recv", errno: errno))
            }
        }
    }

    /// The index just past the first empty line (`CRLF CRLF`), if any.
    private static func headerEnd(in bytes: [UInt8]) -> Int? {
        find([13, 10, 13, 10], in: bytes).map { $0 + 4 }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for start in 0...(bytes.count - needle.count) where bytes[start..<start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
    }

    /// Parses `HTTP/1.x NNN reason` at the start of `head`.
    private static func status(of head: ArraySlice<UInt8>, from name: String) throws(MailError) -> Int {
        let line = head.prefix { $0 != 13 && $0 != 10 }
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2,
            parts[0].starts(with: Array("HTTP/1.".utf8)),
            parts[1].count == 3,
            let status = Int(String(decoding: parts[1], as: UTF8.self))
        else {
            throw MailError(.badResponse, "mail webhook \(name) answered something that is not HTTP/1.x")
        }
        return status
    }
}
