import Foundation
import PorteroTestSupport
import Testing

/// `mail.transport: smtp` against a real postfix (Debian's package) on loopback: a private instance with its own
/// configuration, queue and port in a test directory, delivering every address of `example.com` into one Maildir
/// through virtual(8). The system's postfix, if one runs, is not touched.
@Suite(
    "Postfix on loopback", .serialized,
    .enabled("needs root and Debian's postfix (make test-deps)") { PostfixInstance.canRun })
struct PostfixTests {
    typealias Client = AuthFlowTests.Client

    @Test("a message sent with mail.transport: smtp arrives in postfix's Maildir, in the account's language")
    func deliversThroughPostfix() async throws {
        let postfix = try await PostfixInstance.start()
        do {
            try await withDaemon(
                arguments: [
                    "--mail-transport", "smtp", "--mail-smtp-host", "127.0.0.1", "--mail-smtp-port",
                    String(postfix.port), "--mail-smtp-tls", "none", "--mail-from", "Portero <portero@test.example>",
                    "--mail-retry-max-delay", "1s",
                ]
            ) { daemon in
                let client = Client(endpoint: try daemon.unix, daemon: daemon)
                let registered = try await HTTPTestClient.request(
                    "POST", AuthFlowTests.base + "/register", to: try daemon.unix,
                    headers: ["Accept-Language": "es-ES,es;q=0.9"],
                    json: ["email": "lucia@example.com", "password": "correct horse battery"])
                #expect(registered.status == 201)
                let maildir = postfix.maildir
                #expect(
                    await waitUntil(timeout: .seconds(30)) {
                        !MaildirReader.messages(in: maildir, to: "lucia@example.com").isEmpty
                    }, "postfix log: \(postfix.log)")
                let message = try #require(MaildirReader.messages(in: maildir, to: "lucia@example.com").first)
                // postfix added its own trace: the message went through its queue, not around it.
                #expect(message.contains("Received: from "))
                #expect(message.contains("by postfix.test (Postfix)"))
                #expect(MailTemplateTests.subject(of: message) == "Verifica tu dirección de correo")
                let code = try #require(MaildirReader.code(in: message))
                #expect(
                    try await client.post("/verify-email", ["email": "lucia@example.com", "code": code]).status == 200)
                #expect(postfix.log.contains("status=sent (delivered to maildir)"))
            }
        } catch {
            await postfix.stop()
            throw error
        }
        await postfix.stop()
    }
}

/// A private postfix: `postfix -c <dir>/etc start` with main.cf and master.cf written here (no chroot, no local
/// users: virtual(8) delivers as nobody into `<dir>/mail/Maildir/`), its log in `<dir>/maillog`.
struct PostfixInstance {
    let directory: TestDirectory
    let port: Int

    static var canRun: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix")
            && getpwnam("postfix") != nil && getgrnam("postdrop") != nil
    }

    var configuration: String { directory.file("etc") }
    var maildir: String { directory.file("mail/Maildir") }
    var log: String { (try? String(contentsOfFile: directory.file("maillog"), encoding: .utf8)) ?? "" }

    static func start() async throws -> PostfixInstance {
        let directory = try TestDirectory("postfix")
        // virtual(8) runs as nobody and must reach the Maildir.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        for name in ["etc", "queue", "data", "mail"] {
            try FileManager.default.createDirectory(atPath: directory.file(name), withIntermediateDirectories: true)
        }
        guard let postfixUser = getpwnam("postfix") else { throw TestClientError("no postfix user") }
        chown(directory.file("data"), postfixUser.pointee.pw_uid, postfixUser.pointee.pw_gid)
        chown(directory.file("mail"), 65534, 65534)
        let port = try PorteroProcess.freePort()
        let instance = PostfixInstance(directory: directory, port: port)
        try directory.write("etc/main.cf", instance.mainCF)
        try directory.write("etc/master.cf", instance.masterCF)
        let started = try await instance.postfix("start")
        guard started.status == 0 else {
            directory.remove()
            throw TestClientError(
                "postfix start: \(started.status) \(started.stdout) \(started.stderr) \(instance.log)")
        }
        // Ready once smtpd answers on the port.
        let ready = await waitUntil(timeout: .seconds(20)) { instance.accepts() }
        guard ready else {
            await instance.stop()
            throw TestClientError("postfix does not listen on \(port): \(instance.log)")
        }
        return instance
    }

    func postfix(_ command: String) async throws -> CommandResult {
        try await PorteroProcess.runProgram(
            "/usr/sbin/postfix", ["-c", configuration, command],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], timeout: .seconds(60))
    }

    /// Stops this instance (its master's pid file is in its own queue directory) and removes its directory.
    func stop() async {
        _ = try? await postfix("stop")
        directory.remove()
    }

    /// Whether something accepts TCP connections on the port.
    func accepts() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    var mainCF: String {
        """
        compatibility_level = 3.6
        queue_directory = \(directory.file("queue"))
        data_directory = \(directory.file("data"))
        mail_owner = postfix
        setgid_group = postdrop
        inet_interfaces = 127.0.0.1
        inet_protocols = ipv4
        myhostname = postfix.test
        mydomain = postfix.test
        myorigin = postfix.test
        mydestination =
        mynetworks = 127.0.0.0/8
        relay_domains =
        smtpd_relay_restrictions = permit_mynetworks, reject
        virtual_mailbox_domains = example.com
        virtual_mailbox_base = \(directory.file("mail"))
        virtual_mailbox_maps = static:Maildir/
        virtual_uid_maps = static:65534
        virtual_gid_maps = static:65534
        virtual_minimum_uid = 100
        maillog_file_prefixes = \(directory.path)
        maillog_file = \(directory.file("maillog"))
        alias_maps =
        alias_database =
        smtputf8_enable = no

        """
    }

    /// Only what accepting and delivering to a virtual Maildir needs; nothing chrooted.
    var masterCF: String {
        """
        127.0.0.1:\(port) inet n - n - - smtpd
        pickup    unix  n       -       n       60      1       pickup
        cleanup   unix  n       -       n       -       0       cleanup
        qmgr      unix  n       -       n       300     1       qmgr
        rewrite   unix  -       -       n       -       -       trivial-rewrite
        bounce    unix  -       -       n       -       0       bounce
        defer     unix  -       -       n       -       0       bounce
        trace     unix  -       -       n       -       0       bounce
        verify    unix  -       -       n       -       1       verify
        flush     unix  n       -       n       1000?   0       flush
        proxymap  unix  -       -       n       -       -       proxymap
        showq     unix  n       -       n       -       -       showq
        error     unix  -       -       n       -       -       error
        retry     unix  -       -       n       -       -       error
        discard   unix  -       -       n       -       -       discard
        virtual   unix  -       n       n       -       -       virtual
        anvil     unix  -       -       n       -       1       anvil
        scache    unix  -       -       n       -       1       scache
        postlog   unix-dgram n  -       n       -       1       postlogd

        """
    }
}
