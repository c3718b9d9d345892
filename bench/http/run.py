#!/usr/bin/env python3
"""HTTP benchmarks of Portero against the bare framework and the seeds' stacks, in one run (issue 13).

`make bench-http` builds everything and runs this. By hand:

    python3 bench/http/run.py --binary .build-release/release/portero \
        --ceiling bench/http/.build/release/portero-bench-ceiling [--seconds 10] [--users 1000000] \
        [--venv .build-bench/venv] [--skip-peers] [--append BENCHMARKS.md]

What it does, each daemon on a fresh temporary data directory (Maildir transport so registration works offline;
rate limits and the lockout off in a config file so that the load is not refused):

1. GET /profile over TCP (wrk) and over the Unix socket (loadgen), POST /introspect over the Unix socket (at
   saturation and paced at 1,000 req/s), GET /verify and GET /healthz over TCP: req/s, p50, p99, p99.9;
2. the same user JSON from a bare Hummingbird 2 handler (bench/http/Sources/portero-bench-ceiling): the ceiling;
3. the Flask and FastAPI peers (bench/peers/) on GET /profile, and Portero's ratio to each;
4. login with the default argon2id parameters vs the raw libargon2 verify rate on the same cores (argon2rate), and
   /profile p99 at a paced 200 req/s while a login flood runs; short floods and short raw runs take turns
   (--login-rounds floods of LOGIN_SLICE seconds), since the raw rate drifts on a shared machine;
5. POST /refresh (one rotation, one durable record each) at 1, 8 and 64 clients, against one write + fdatasync per
   write in a loop on the same file system;
6. start-up: time from exec to READY=1 (a NOTIFY_SOCKET listener) and RSS, with an empty store and with
   --users accounts (gen-users.py writes the data directory), RSS per user, and the time and size of a snapshot.

Prints a Markdown table and, with --append, appends it with the date, machine, load average and commit.
Needs: wrk, gcc, libargon2-dev (Debian), Python 3.
"""

import argparse
import datetime
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PASSWORD = "bench password 2026"
EMAIL = "bench@example.com"
# Seconds per login flood and per raw argon2 run when they take turns (see the login section of main).
LOGIN_SLICE = 2
AUTH = "/api/v1/auth"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# MARK: tools


def build_tools(directory):
    """Compiles loadgen and argon2rate (C, no dependency but libargon2) into `directory`."""
    os.makedirs(directory, exist_ok=True)
    tools = {}
    for name, extra in (("loadgen", []), ("argon2rate", ["-largon2", "-lpthread"])):
        output = os.path.join(directory, name)
        subprocess.run(["gcc", "-O2", "-o", output, os.path.join(HERE, name + ".c")] + extra, check=True)
        tools[name] = output
    return tools


def ensure_venv(path):
    python = os.path.join(path, "bin", "python3")
    requirements = os.path.join(ROOT, "bench", "peers", "requirements.txt")
    stamp = os.path.join(path, ".requirements")
    wanted = open(requirements).read()
    if not os.path.exists(stamp) or open(stamp).read() != wanted:
        log(f"installing the peers' packages into {path}")
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "-r", requirements, "crc32c"], check=True)
        with open(stamp, "w") as handle:
            handle.write(wanted)
    return path


def wrk(url, seconds, connections=32, method="GET", headers=None, body=None):
    """wrk with one thread; a Lua script sets the request and prints the summary as JSON (p99.9 included)."""
    lines = [f'wrk.method = "{method}"']
    for name, value in (headers or {}).items():
        lines.append(f'wrk.headers["{name}"] = {json.dumps(value)}')
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    lines.append(
        "done = function(summary, latency, requests)\n"
        "  local e = summary.errors\n"
        "  io.write(string.format('WRKJSON {\"requests\":%d,\"errors\":%d,\"non2xx\":%d,\"seconds\":%f,"
        "\"p50\":%f,\"p90\":%f,\"p99\":%f,\"p999\":%f,\"max\":%f}\\n', summary.requests,"
        " e.connect + e.read + e.write + e.timeout, e.status, summary.duration / 1e6,"
        " latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,"
        " latency:percentile(99.9) / 1000, latency.max / 1000))\n"
        "end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines))
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name, url],
            capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"^WRKJSON (.*)$", output, re.M)
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def loadgen(tools, target, seconds, connections=32, method="GET", path="/", headers=None, body=None, rate=None,
            refresh_tokens=None):
    command = [tools["loadgen"], "-c", str(connections), "-d", str(seconds), "-m", method, "-p", path]
    command += ["--unix", target] if target.startswith("/") else ["--tcp", target]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if body is not None:
        command += ["-b", body]
    if rate:
        command += ["-R", str(rate)]
    if refresh_tokens:
        command += ["--refresh-tokens", refresh_tokens]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def measure_ceiling(binary, seconds, connections, nio=False):
    """wrk against the bare Hummingbird handler (`--nio-executor`: with NIO's event loops as the global executor)."""
    port = free_port()
    ceiling = subprocess.Popen([binary, str(port)] + (["--nio-executor"] if nio else []),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{AUTH}/profile", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline:
                    sys.exit("the ceiling did not start")
                time.sleep(0.1)
        return wrk(f"http://127.0.0.1:{port}{AUTH}/profile", seconds, connections)
    finally:
        ceiling.terminate()
        ceiling.wait()


# MARK: Portero


class Daemon:
    """`portero serve` on a data directory, with a config file and a NOTIFY_SOCKET listener for READY=1."""

    def __init__(self, binary, directory, data_dir=None):
        self.binary = binary
        self.directory = directory
        self.data_dir = data_dir or os.path.join(directory, "data")
        self.port = free_port()
        self.socket_path = os.path.join(directory, "portero.sock")
        self.config = os.path.join(directory, "portero.yaml")
        os.makedirs(directory, exist_ok=True)
        with open(self.config, "w") as handle:
            handle.write(
                f"data_dir: {self.data_dir}\n"
                f'listen: "127.0.0.1:{self.port}"\n'
                f"socket: {self.socket_path}\n"
                "mail:\n  transport: maildir\n"
                # The benchmark's own load must not be refused: every limit off, no lockout.
                "rate:\n  login: 0\n  register: 0\n  verify: 0\n  resend: 0\n  forgot: 0\n"
                "lockout:\n  max_failures: 0\n"
                "log:\n  format: text\n  level: error\n")

    def start(self, timeout=120):
        notify_path = os.path.join(self.directory, "notify.sock")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(0.2)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTERO_")}
        environment["NOTIFY_SOCKET"] = notify_path
        self.stderr = open(os.path.join(self.directory, "portero.stderr"), "ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [self.binary, "serve", "--config", self.config], env=environment, stdout=subprocess.DEVNULL,
            stderr=self.stderr)
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                if self.process.poll() is not None:
                    sys.exit(f"portero exited early; see {self.stderr.name}")
                try:
                    message = notify.recv(4096).decode()
                except socket.timeout:
                    continue
                fields = message.split("\n")
                if "READY=1" in fields:
                    self.ready_seconds = time.perf_counter() - started
                    # STATUS=serving N users on …: how many accounts the daemon loaded.
                    status = next((f[len("STATUS="):] for f in fields if f.startswith("STATUS=")), "")
                    self.status = status.split(" on ")[0]
                    return self
            sys.exit("portero did not send READY=1")
        finally:
            notify.close()

    def cpu_seconds(self):
        """User + system CPU time the daemon has used so far."""
        with open(f"/proc/{self.process.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def hash_thread_cpu_seconds(self):
        """User + system CPU time of the password-hashing threads (`portero-hash-N`, alive as long as the daemon)."""
        total = 0
        for thread in os.listdir(f"/proc/{self.process.pid}/task"):
            try:
                with open(f"/proc/{self.process.pid}/task/{thread}/comm") as handle:
                    if not handle.read().startswith("portero-hash"):
                        continue
                with open(f"/proc/{self.process.pid}/task/{thread}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def post(self, path, body, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url(AUTH + path), json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def create_user(self, email=EMAIL):
        """Registers `email`, verifies it with the code from the Maildir and logs in: the token response."""
        status, _ = self.post("/register", {"email": email, "password": PASSWORD, "name": "Bench User"})
        assert status == 201, status
        maildir = os.path.join(self.data_dir, "mail", "new")
        deadline = time.time() + 30
        code = None
        while code is None and time.time() < deadline:
            for name in sorted(os.listdir(maildir)) if os.path.isdir(maildir) else []:
                with open(os.path.join(maildir, name), encoding="utf-8") as handle:
                    text = handle.read()
                if email in text:
                    match = re.search(r"(?<!\d)\d{6}(?!\d)", text.split("\n\n", 1)[-1])
                    if match:
                        code = match.group(0)
            time.sleep(0.05)
        assert code, "no verification mail"
        status, _ = self.post("/verify-email", {"email": email, "code": code})
        assert status == 200, status
        return self.login(email)

    def store_commits(self):
        """(fdatasyncs, transactions) so far, from GET /metrics on the Unix socket (group commit's histograms)."""
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(10)
        client.connect(self.socket_path)
        client.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        client.close()
        values = {}
        for line in answer.decode(errors="replace").splitlines():
            for name in ("portero_store_fsync_seconds_count", "portero_store_commit_batch_size_sum"):
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    values[name] = values.get(name, 0) + float(line.rsplit(" ", 1)[1])
        return (values.get("portero_store_fsync_seconds_count", 0),
                values.get("portero_store_commit_batch_size_sum", 0))

    def login(self, email=EMAIL):
        status, answer = self.post("/login", {"email": email, "password": PASSWORD})
        assert status == 200, (status, answer)
        return answer


# MARK: peers


class Peer:
    def __init__(self, name, command, directory, port):
        self.name, self.port = name, port
        environment = dict(os.environ, PEER_DB=os.path.join(directory, f"{name}.sqlite3"))
        self.log = open(os.path.join(directory, f"{name}.log"), "ab")
        self.process = subprocess.Popen(command, cwd=os.path.join(ROOT, "bench", "peers"), env=environment,
                                        stdout=self.log, stderr=self.log)

    def call(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data, headers, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def token(self):
        deadline = time.time() + 60
        while True:
            try:
                self.call("POST", AUTH + "/register", {"email": EMAIL, "password": PASSWORD, "name": "Bench User"})
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline or self.process.poll() is not None:
                    self.log.flush()
                    with open(self.log.name, errors="replace") as handle:
                        tail = "".join(handle.readlines()[-15:])
                    sys.exit(f"peer {self.name} did not start (exit status {self.process.poll()}); its log ends:\n"
                             f"{tail}")
                time.sleep(0.3)
        token = self.call("POST", AUTH + "/login", {"email": EMAIL, "password": PASSWORD})["access_token"]
        assert self.call("GET", AUTH + "/profile", token=token)["user"]["email"] == EMAIL
        return token

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# MARK: measurements


def fsync_rate(directory, seconds=3):
    """One 300-byte append + fdatasync per write, in a loop: the baseline group commit is compared with."""
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    line = b"x" * 299 + b"\n"
    count, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        os.write(fd, line)
        os.fdatasync(fd)
        count += 1
    elapsed = time.perf_counter() - start
    os.close(fd)
    os.unlink(path)
    return count / elapsed


def generate_users(binary, venv, directory, users):
    """A data directory with `users` accounts, from a template that the daemon itself wrote (gen-users.py)."""
    template = os.path.join(directory, "template")
    daemon = Daemon(binary, template).start()
    daemon.create_user()
    daemon.stop()  # a clean stop writes a snapshot
    output = os.path.join(directory, "million", "data")
    started = time.perf_counter()
    subprocess.run([os.path.join(venv, "bin", "python3"), os.path.join(HERE, "gen-users.py"), "--template",
                    daemon.data_dir, "--output", output, "--users", str(users)], check=True)
    log(f"generated {users} users in {time.perf_counter() - started:.1f} s")
    return output


def snapshot(binary, daemon):
    """`portero snapshot` through the admin API; answers (seconds, size of the newest snapshot in bytes)."""
    started = time.perf_counter()
    subprocess.run([binary, "snapshot", "--socket", daemon.socket_path], check=True, stdout=subprocess.DEVNULL,
                   env={k: v for k, v in os.environ.items() if not k.startswith("PORTERO_")})
    elapsed = time.perf_counter() - started
    snapshots = sorted(name for name in os.listdir(daemon.data_dir) if re.fullmatch(r"snapshot-\d+\.json", name))
    return elapsed, os.path.getsize(os.path.join(daemon.data_dir, snapshots[-1]))


def row(name, result):
    return (f"| {name} | {result['rps']:,.0f} | {result['p50']:.2f} | {result['p99']:.2f} | {result['p999']:.2f} | "
            f"{result['non2xx'] + result['errors']} |")


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with open("/proc/meminfo") as handle:
        memory = int(handle.readline().split()[1]) // (1024 * 1024)
    return f"`nproc` {os.cpu_count()}, {model}, {memory} GiB, kernel {os.uname().release}"


def commit():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-release", "release", "portero"))
    parser.add_argument("--ceiling",
                        default=os.path.join(HERE, ".build", "release", "portero-bench-ceiling"))
    parser.add_argument("--seconds", type=int, default=10, help="per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=1_000_000, help="accounts for the start-up test; 0 skips it")
    parser.add_argument("--venv", default=os.path.join(ROOT, ".build-bench", "venv"))
    parser.add_argument("--tools", default=os.path.join(ROOT, ".build-bench", "tools"))
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--login-rounds", type=int, default=8,
                        help=f"login floods of {LOGIN_SLICE} s, in turns with as many runs of the raw argon2 "
                             "program and one more (default 8)")
    parser.add_argument("--only", default="", help="comma-separated sections: read,peers,login,refresh,startup")
    parser.add_argument("--append", help="append the table to this Markdown file (BENCHMARKS.md)")
    parser.add_argument("--baseline", help="another portero binary (an earlier build) measured on the same read "
                                           "routes and start-up in the same run, for before/after ratios; with "
                                           "--users, each also starts from the snapshot the other wrote")
    args = parser.parse_args()
    sections = set(args.only.split(",")) if args.only else {"read", "peers", "login", "refresh", "startup"}
    if args.skip_peers:
        sections.discard("peers")

    tools = build_tools(args.tools)
    venv = ensure_venv(args.venv) if ("peers" in sections or ("startup" in sections and args.users)) else None
    load_before = os.getloadavg()
    seconds, connections = args.seconds, args.connections
    lines = []
    notes = []
    work = tempfile.mkdtemp(prefix="portero-bench-")
    try:
        daemon = Daemon(args.binary, os.path.join(work, "main"))
        daemon.start()
        tokens = daemon.create_user()
        access = tokens["access_token"]
        bearer = {"Authorization": f"Bearer {access}"}
        profile = None

        if sections & {"read", "peers"}:
            log("GET /profile over TCP")
            profile = wrk(daemon.url(AUTH + "/profile"), seconds, connections, headers=bearer)
            lines.append(("read", row("Portero GET /profile, TCP (wrk)", profile)))
        if "read" in sections:
            log("GET /profile over the Unix socket")
            result = loadgen(tools, daemon.socket_path, seconds, connections, path=AUTH + "/profile", headers=bearer)
            lines.append(("read", row("Portero GET /profile, Unix socket (loadgen)", result)))
            introspect = json.dumps({"token": access})
            json_type = {"Content-Type": "application/json"}
            log("POST /introspect over the Unix socket")
            result = loadgen(tools, daemon.socket_path, seconds, connections, "POST", AUTH + "/introspect",
                             json_type, introspect)
            lines.append(("read", row("Portero POST /introspect, Unix socket (loadgen)", result)))
            result = loadgen(tools, daemon.socket_path, seconds, 8, "POST", AUTH + "/introspect", json_type,
                             introspect, rate=1000)
            lines.append(("read", row("Portero POST /introspect, Unix socket, paced at 1,000 req/s", result)))
            notes.append(f"introspection p99 at 1,000 req/s over the Unix socket: **{result['p99']:.2f} ms** "
                         "(target < 1 ms)")
            log("GET /verify and /healthz over TCP")
            result = wrk(daemon.url(AUTH + "/verify"), seconds, connections, headers=bearer)
            lines.append(("read", row("Portero GET /verify, TCP (wrk)", result)))
            result = wrk(daemon.url("/healthz"), seconds, connections)
            lines.append(("read", row("Portero GET /healthz, TCP (wrk)", result)))

            for mode in ("default", "nio"):
                log(f"the ceiling: a bare Hummingbird handler ({mode} executor)")
                result = measure_ceiling(args.ceiling, seconds, connections, nio=mode == "nio")
                label = ("bare Hummingbird 2 handler, same user JSON, TCP (wrk)" if mode == "default" else
                         "the same bare handler with NIO's event loops as Swift's global executor, as Portero runs")
                lines.append(("read", row(label, result)))
                notes.append(f"Portero /profile over TCP = **{profile['rps'] / result['rps'] * 100:.0f} %** of the "
                             f"bare Hummingbird handler, {mode} executor (target ≥ 70 %)")

        if "read" in sections and args.baseline:
            log(f"the baseline binary {args.baseline}")
            before = Daemon(args.baseline, os.path.join(work, "baseline")).start()
            try:
                before_bearer = {"Authorization": f"Bearer {before.create_user()['access_token']}"}
                for label, run in (
                    ("GET /profile, TCP", lambda: wrk(before.url(AUTH + "/profile"), seconds, connections,
                                                      headers=before_bearer)),
                    ("GET /profile, Unix socket", lambda: loadgen(tools, before.socket_path, seconds, connections,
                                                                  path=AUTH + "/profile", headers=before_bearer)),
                    ("GET /verify, TCP", lambda: wrk(before.url(AUTH + "/verify"), seconds, connections,
                                                     headers=before_bearer)),
                ):
                    result = run()
                    lines.append(("read", row(f"baseline ({os.path.basename(args.baseline)}) {label}", result)))
                    if label == "GET /profile, TCP":
                        notes.append(f"/profile over TCP: this build {profile['rps']:,.0f} req/s vs the baseline "
                                     f"{result['rps']:,.0f} req/s = **{profile['rps'] / result['rps']:.2f}×**")
            finally:
                before.stop()

        if "peers" in sections:
            python = os.path.join(venv, "bin")
            for name, command in (
                ("flask", [os.path.join(python, "gunicorn"), "-w", "2", "-b", "127.0.0.1:{port}",
                           "--log-level", "warning", "flask_app:app"]),
                ("fastapi", [os.path.join(python, "uvicorn"), "--workers", "2", "--host", "127.0.0.1", "--port",
                             "{port}", "--log-level", "warning", "fastapi_app:app"]),
            ):
                log(f"peer {name}: GET /profile")
                port = free_port()
                peer = Peer(name, [part.format(port=port) for part in command], work, port)
                try:
                    token = peer.token()
                    result = wrk(f"http://127.0.0.1:{port}{AUTH}/profile", seconds, connections,
                                 headers={"Authorization": f"Bearer {token}"})
                finally:
                    peer.stop()
                label = {"flask": "Flask + flask-jwt-extended, gunicorn 2 workers",
                         "fastapi": "FastAPI + PyJWT, uvicorn 2 workers"}[name]
                lines.append(("peers", row(f"{label}, GET /profile, TCP (wrk)", result)))
                notes.append(f"Portero /profile over TCP = **{profile['rps'] / max(result['rps'], 0.001):.1f}×** "
                             f"the {name} peer" + (" (target ≥ 25×)" if name == "flask" else ""))

        if "login" in sections:
            # This VM's argon2 rate drifts by 20 % within a minute (memory bandwidth shared with its neighbours), more
            # than the gap being measured. So short login floods and short runs of the raw program take turns (raw,
            # flood, raw, flood, ..., raw, LOGIN_SLICE seconds each), and the ratio is of the sums: all logins over
            # all flood time against all verifies over all raw time, which a drift slower than a few slices cancels
            # out of. The CPU time per login against the CPU time per raw verify says the same a second way. Then
            # one flood with /profile paced at 200 req/s beside it gives the p99 of token checks under the flood.
            def raw_rate(duration):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                result = json.loads(subprocess.run([tools["argon2rate"], "--seconds", str(duration)],
                                                   capture_output=True, text=True, check=True).stdout)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
                return result

            login_body = json.dumps({"email": EMAIL, "password": PASSWORD})

            def login_flood(duration):
                return wrk(daemon.url(AUTH + "/login"), duration, 8, "POST", {"Content-Type": "application/json"},
                           login_body)

            log(f"login floods and raw libargon2 runs in turns, {args.login_rounds} floods of {LOGIN_SLICE} s")
            raws = [raw_rate(LOGIN_SLICE)]
            floods, flood_cpu, hash_cpu = [], 0.0, 0.0
            for _ in range(args.login_rounds):
                cpu_before, hash_before = daemon.cpu_seconds(), daemon.hash_thread_cpu_seconds()
                floods.append(login_flood(LOGIN_SLICE))
                flood_cpu += daemon.cpu_seconds() - cpu_before
                hash_cpu += daemon.hash_thread_cpu_seconds() - hash_before
                raws.append(raw_rate(LOGIN_SLICE))
            logins = sum(entry["requests"] - entry["non2xx"] for entry in floods)
            login_rate = logins / sum(entry["seconds"] for entry in floods)
            verifies = sum(entry["verifies"] for entry in raws)
            raw_rate_all = verifies / sum(entry["seconds"] for entry in raws)
            efficiency = (sum(entry["cpu"] for entry in raws) / max(verifies, 1)) / (flood_cpu / max(logins, 1))
            slices = [(entry["requests"] - entry["non2xx"]) / entry["seconds"]
                      / ((raws[index]["rate"] + raws[index + 1]["rate"]) / 2) for index, entry in enumerate(floods)]
            slowest = max(floods, key=lambda entry: entry["p99"])
            slowest["rps"] = login_rate

            log("login flood (wrk) with /profile paced at 200 req/s (loadgen)")
            flood_result = {}
            flood = threading.Thread(target=lambda: flood_result.update(login_flood(seconds)))
            flood.start()
            time.sleep(0.5)
            during = loadgen(tools, f"127.0.0.1:{daemon.port}", seconds - 1, 4, path=AUTH + "/profile",
                             headers=bearer, rate=200)
            flood.join()
            flood_result["rps"] = (flood_result["requests"] - flood_result["non2xx"]) / flood_result["seconds"]
            lines.append(("login", row(f"Portero POST /login (argon2id m=19 MiB t=2 p=1), 8 clients, TCP: "
                                       f"{args.login_rounds} floods of {LOGIN_SLICE} s (latency: the slowest)",
                                       slowest)))
            lines.append(("login", f"| raw libargon2 argon2id verify, {raws[0]['threads']} threads: "
                                   f"{len(raws)} runs of {LOGIN_SLICE} s, in turns with the floods "
                                   f"({min(entry['rate'] for entry in raws):,.1f}–"
                                   f"{max(entry['rate'] for entry in raws):,.1f}) | {raw_rate_all:,.1f} | | | | |"))
            lines.append(("login", row(f"Portero POST /login, one {seconds}-s flood with the /profile probe beside it",
                                       flood_result)))
            lines.append(("login", row("Portero GET /profile paced at 200 req/s during that flood", during)))
            notes.append(f"login = **{login_rate / raw_rate_all * 100:.0f} %** of the raw argon2id rate over "
                         f"{args.login_rounds} floods in turns with the raw program (flood by flood, against the "
                         f"runs either side: {min(slices) * 100:.0f}–{max(slices) * 100:.0f} %; target ≥ 90 %); CPU "
                         f"per login {flood_cpu / max(logins, 1) * 1000:.1f} ms against "
                         f"{sum(entry['cpu'] for entry in raws) / max(verifies, 1) * 1000:.1f} ms per raw verify "
                         f"(**{efficiency * 100:.0f} %** as efficient): {hash_cpu / max(logins, 1) * 1000:.1f} ms on "
                         f"the hash threads, {(flood_cpu - hash_cpu) / max(logins, 1) * 1000:.2f} ms on the others")
            notes.append(f"/profile p99 at 200 req/s during the login flood **{during['p99']:.2f} ms** (target < 5 ms); "
                         f"logins meanwhile {flood_result['rps']:,.1f}/s")

        if "refresh" in sections:
            log("POST /refresh at 1, 8, 64 clients")
            baseline = fsync_rate(daemon.data_dir)
            for clients in (1, 8, 64):
                path = os.path.join(work, f"refresh-{clients}.txt")
                with open(path, "w") as handle:
                    for _ in range(clients):
                        handle.write(daemon.login()["refresh_token"] + "\n")
                syncs_before, commits_before = daemon.store_commits()
                result = loadgen(tools, f"127.0.0.1:{daemon.port}", seconds, clients, "POST", AUTH + "/refresh",
                                 {"Content-Type": "application/json"}, refresh_tokens=path)
                syncs_after, commits_after = daemon.store_commits()
                syncs = syncs_after - syncs_before
                per_sync = (commits_after - commits_before) / syncs if syncs else 0
                lines.append(("refresh", row(f"Portero POST /refresh, {clients} clients, TCP "
                                             f"({per_sync:.1f} transactions per fdatasync)", result)))
                last, last_per_sync = result, per_sync
            lines.append(("refresh", f"| one 300-byte write + fdatasync per write, same file system | "
                                     f"{baseline:,.0f} | | | | |"))
            notes.append(f"refresh at 64 clients = **{last['rps'] / baseline:.1f}×** one fdatasync per write "
                         f"(target ≥ 8×); group commit wrote {last_per_sync:.1f} transactions per fdatasync")
        daemon.stop()

        if "startup" in sections:
            log("start-up with an empty store")
            empty = Daemon(args.binary, os.path.join(work, "empty"))
            readies = []
            for _ in range(3):
                empty.start()
                readies.append(empty.ready_seconds)
                time.sleep(0.5)
                rss_empty = empty.rss_mib()
                empty.stop()
            ready_empty = sorted(readies)[1]
            lines.append(("startup", f"| start-up, empty store: READY=1 (median of 3) / RSS | "
                                     f"{ready_empty * 1000:.0f} ms | {rss_empty:.0f} MiB | | | |"))
            notes.append(f"empty store READY=1 in **{ready_empty * 1000:.0f} ms** (target < 150 ms)")
            if args.users:
                log(f"generating {args.users} users")
                data = generate_users(args.binary, venv, os.path.join(work, "gen"), args.users)
                # Each binary starts from its own copy of the generated directory (a snapshot rewrites it). With
                # --baseline, the baseline goes first, then this build; then the baseline starts again from the
                # snapshot this build wrote, and this build from the one the baseline wrote: each reads the other's.
                binaries = ([("baseline", args.baseline)] if args.baseline else []) + [("this build", args.binary)]
                written = {}
                results = {}
                for label, binary in binaries:
                    copy = os.path.join(work, f"run-{len(written)}")
                    shutil.copytree(os.path.dirname(data), copy)
                    big = Daemon(binary, copy, os.path.join(copy, "data"))
                    log(f"start-up with them: {label}")
                    big.start(timeout=600)
                    time.sleep(1)
                    rss = big.rss_mib()
                    per_user = (rss - rss_empty) * 1024 * 1024 / args.users
                    log(f"snapshot: {label}")
                    snapshot_seconds, snapshot_bytes = snapshot(binary, big)
                    rss_after = big.rss_mib()
                    big.stop()
                    written[label] = big.data_dir
                    results[label] = big.ready_seconds, rss
                    name = "" if not args.baseline else f" ({label})"
                    lines.append(("startup", f"| start-up{name}, {args.users:,} users: READY=1 / RSS / per user | "
                                             f"{big.ready_seconds:.2f} s | {rss:.0f} MiB | {per_user:.0f} B | | |"))
                    lines.append(("startup", f"| `portero snapshot`{name} of {args.users:,} users: time / size / "
                                             f"RSS after | {snapshot_seconds:.2f} s | {snapshot_bytes / 1e6:.0f} MB | "
                                             f"{rss_after:.0f} MiB | | |"))
                    if big.status:
                        notes.append(f"{label}: `{big.status}`")
                ready, rss = results["this build"]
                notes.append(f"{args.users:,} users: READY=1 in **{ready:.2f} s**, RSS **{rss:.0f} MiB** (targets "
                             "< 5 s, < 1 GiB)")
                if args.baseline:
                    before_ready, before_rss = results["baseline"]
                    notes.append(f"start-up with {args.users:,} users: this build {ready:.2f} s vs the baseline "
                                 f"{before_ready:.2f} s = **{before_ready / ready:.1f}×** faster")
                    for reader, writer in (("baseline", "this build"), ("this build", "baseline")):
                        binary = dict(binaries)[reader]
                        other = Daemon(binary, os.path.join(work, f"cross-{reader.replace(' ', '-')}"),
                                       written[writer])
                        log(f"{reader} reading the snapshot {writer} wrote")
                        other.start(timeout=600)
                        other.stop()
                        lines.append(("startup", f"| start-up ({reader}) from the snapshot {writer} wrote: READY=1 "
                                                 f"| {other.ready_seconds:.2f} s | | | | |"))
                        notes.append(f"{reader} reading {writer}'s snapshot: `{other.status}`")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load_after = os.getloadavg()
    headings = {
        "read": "| reads (32 connections unless said) | req/s | p50 ms | p99 ms | p99.9 ms | non-2xx/errors |",
        "peers": "| the seeds' stacks (32 connections) | req/s | p50 ms | p99 ms | p99.9 ms | non-2xx/errors |",
        "login": "| login | logins/s | p50 ms | p99 ms | p99.9 ms | non-2xx/errors |",
        "refresh": "| durable writes without hashing | refreshes/s | p50 ms | p99 ms | p99.9 ms | non-2xx/errors |",
        "startup": "| start-up | time | RSS | | | |",
    }
    table = []
    for section in ("read", "peers", "login", "refresh", "startup"):
        section_lines = [line for kind, line in lines if kind == section]
        if section_lines:
            table += ["", headings[section], "|---|---:|---:|---:|---:|---:|"] + section_lines
    report = "\n".join(table[1:]) + "\n\n" + "\n".join(f"- {note}" for note in notes) + "\n"
    print(report)
    if args.append:
        header = (
            f"\n### `make bench-http`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n\n"
            f"- Command: `python3 bench/http/run.py --seconds {seconds} --users {args.users}"
            + (f" --only {args.only}" if args.only else "")
            + (f" --baseline {args.baseline}" if args.baseline else "")
            + "` (`make bench-http BENCH_ARGS=…` runs it); release build; wrk 1 thread, loadgen 1 thread\n"
            f"- Machine: {machine()}; load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the "
            "end (other builds share the cores: compare ratios within this run, not absolute figures)\n"
            f"- Commit: {commit()}\n\n")
        with open(args.append, "a") as handle:
            handle.write(header + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
