/// The Python peers the tests run. Each takes the ready-file path first, writes it atomically once listening, and
/// exits when its standard input is closed.
public enum PeerScripts {
    /// An SMTP sink (aiosmtpd) on a free loopback port. Arguments: READY OUTDIR [--tls CERT KEY | --implicit-tls CERT
    /// KEY] [--auth USER:PASS].
    /// The ready file holds the port. Message N is stored as `N.eml` (bytes as received) and `N.json` (envelope,
    /// and whether the session used TLS and AUTH); the `.eml` appears last, atomically. With `--tls` the sink
    /// requires STARTTLS; with `--implicit-tls` it speaks TLS from the first byte (port 465 style); with `--auth` it
    /// requires AUTH (PLAIN or LOGIN) after it.
    public static let smtpSink = #"""
        import argparse, asyncio, json, os, ssl, sys
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

        parser = argparse.ArgumentParser()
        parser.add_argument("ready"); parser.add_argument("outdir")
        parser.add_argument("--tls", nargs=2); parser.add_argument("--implicit-tls", nargs=2)
        parser.add_argument("--auth")
        args = parser.parse_args()

        def publish(path, data):
            with open(path + ".part", "wb") as f:
                f.write(data)
            os.replace(path + ".part", path)

        class Recorder:
            def __init__(self, outdir):
                self.outdir, self.received = outdir, 0

            async def handle_DATA(self, server, session, envelope):
                self.received += 1
                stem = os.path.join(self.outdir, str(self.received))
                implicit = server.transport.get_extra_info("ssl_object") is not None
                envelope_info = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                                 "tls": session.ssl is not None or implicit, "auth": bool(session.authenticated)}
                publish(stem + ".json", json.dumps(envelope_info).encode())
                publish(stem + ".eml", envelope.original_content or envelope.content)
                return "250 stored"

        def options():
            kw = {}
            if args.tls:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(*args.tls)
                kw.update(tls_context=context, require_starttls=True)
            if args.auth:
                user, password = args.auth.split(":", 1)
                def authenticator(server, session, envelope, mechanism, data):
                    ok = isinstance(data, LoginPassword) and data.login.decode() == user \
                        and data.password.decode() == password
                    return AuthResult(success=ok, handled=False)
                # Over implicit TLS the whole session is encrypted; aiosmtpd only knows STARTTLS, so it is told not to ask.
                kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.tls))
            return kw

        def implicit_context():
            if not args.implicit_tls:
                return None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*args.implicit_tls)
            return context

        async def main():
            os.makedirs(args.outdir, exist_ok=True)
            loop = asyncio.get_running_loop()
            recorder = Recorder(args.outdir)
            kw = options()
            server = await loop.create_server(
                lambda: SMTP(recorder, hostname="sink.test", **kw), "127.0.0.1", 0, ssl=implicit_context())
            publish(args.ready, str(server.sockets[0].getsockname()[1]).encode())
            await loop.run_in_executor(None, sys.stdin.buffer.read)
            server.close()

        asyncio.run(main())
        """#

    /// An HTTP listener answering every POST with a fixed status. Arguments: READY OUTDIR STATUS (tcp [PORT] |
    /// unix PATH) [--tls CERT KEY] [--secret FILE]; with `--secret` each record gets `signature_ok`, checked as
    /// the README tells a receiver to. The ready file holds the TCP port, or `unix`. Request N is stored as `N.json`:
    /// `{"method", "path", "headers" (lowercased names), "body"}`. A request whose body's `to` starts with `hold`
    /// is answered only once the file OUTDIR/release exists (at most a minute): a slow receiver.
    public static let httpListener = #"""
        import argparse, hashlib, hmac, http.server, json, os, socketserver, ssl, sys, threading, time

        parser = argparse.ArgumentParser()
        parser.add_argument("ready"); parser.add_argument("outdir"); parser.add_argument("status", type=int)
        parser.add_argument("mode"); parser.add_argument("address", nargs="?")
        parser.add_argument("--secret"); parser.add_argument("--tls", nargs=2)
        args = parser.parse_args()
        ready, outdir, status, mode = args.ready, args.outdir, args.status, args.mode
        secret = open(args.secret, "rb").read().strip() if args.secret else None
        os.makedirs(outdir, exist_ok=True)

        def signature_ok(header, body):
            # The receiver side of X-Portero-Signature, as documented: t=<unix seconds>,v1=<hex HMAC-SHA256>.
            try:
                fields = dict(part.split("=", 1) for part in header.split(","))
                expected = hmac.new(secret, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
                return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) <= 300
            except Exception:
                return False
        lock, counter = threading.Lock(), [0]

        def publish(path, data):
            with open(path + ".part", "wb") as f:
                f.write(data)
            os.replace(path + ".part", path)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    counter[0] += 1
                    number = counter[0]
                record = {"method": self.command, "path": self.path, "body": body.decode("utf-8"),
                          "headers": {k.lower(): v for k, v in self.headers.items()}}
                if secret is not None:
                    record["signature_ok"] = signature_ok(self.headers.get("X-Portero-Signature", ""), body)
                publish(os.path.join(outdir, "%d.json" % number), json.dumps(record).encode())
                try:
                    held = json.loads(body).get("to", "").startswith("hold")
                except Exception:
                    held = False
                for _ in range(1200):
                    if not held or os.path.exists(os.path.join(outdir, "release")):
                        break
                    time.sleep(0.05)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()

            def address_string(self):
                return "test-client"

            def log_message(self, *args):
                pass

        class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        if mode == "unix":
            server = UnixHTTPServer(args.address, Handler)
            label = "unix"
        else:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", int(args.address or 0)), Handler)
            label = str(server.server_address[1])
            if args.tls:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(*args.tls)
                server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        publish(ready, label.encode())
        sys.stdin.buffer.read()
        server.shutdown()
        """#
}
