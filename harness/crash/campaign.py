#!/usr/bin/env python3
"""Durability campaign for `portero serve`. Python 3 standard library only.

Drives a real daemon with concurrent register/verify/login/refresh/logout traffic, records every acknowledged
operation (the client got a 2xx), breaks the daemon or its files in six ways, restarts it and checks that nothing
acknowledged was lost. See DURABILITY.md for what each part does, why, and the figures of the last full run.

    python3 harness/crash/campaign.py --binary .build/debug/portero --parts kill --cycles 1000
    python3 harness/crash/campaign.py --binary .build/debug/portero --ci      # the bounded run `make test` does

Exit status 0 when every check passed, 1 when any failed (each failure is printed), 2 on bad usage.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

PARTS = ["kill", "powerloss", "faults", "fullfs", "snapshot", "bitrot"]
BASE = "/api/v1/auth"


# ---------------------------------------------------------------------------------------------------------------
# Log format (docs/data-directory.md): CRC-32C over the bytes of a line before `,"crc"`.

def _crc_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def pad(seq):
    return "%016d" % seq


def segments_of(data_dir):
    """[(first_seq, path)] sorted by seq."""
    out = []
    for name in os.listdir(data_dir):
        match = re.fullmatch(r"log-(\d+)\.jsonl", name)
        if match:
            out.append((int(match.group(1)), os.path.join(data_dir, name)))
    return sorted(out)


def snapshots_of(data_dir):
    out = []
    for name in os.listdir(data_dir):
        match = re.fullmatch(r"snapshot-(\d+)\.json", name)
        if match:
            out.append((int(match.group(1)), os.path.join(data_dir, name)))
    return sorted(out)


def line_spans(data):
    """[(start, end_exclusive_of_newline, complete)] for the bytes of a segment."""
    spans = []
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            if start < len(data):
                spans.append((start, len(data), False))
            return spans
        spans.append((start, end, True))
        start = end + 1


class LogView:
    """Our own parse of a data directory, independent of the Swift code: every log line's JSON and CRC-32C, seq
    strictly increasing with no gap from the newest snapshot on, segment names matching their first seq."""

    def __init__(self, data_dir, check_snapshot_crc=False):
        self.problems = []
        self.snapshot_seq = 0
        self.records = {}  # seq -> crc of the record's line (for lines still in segments)
        self.last_seq = 0
        self.text = b""
        snapshots = snapshots_of(data_dir)
        if snapshots:
            self.snapshot_seq, path = snapshots[-1]
            with open(path, "rb") as handle:
                body = handle.read()
            self.text += body
            try:
                parsed = json.loads(body)
                if parsed.get("seq") != self.snapshot_seq or parsed.get("format") != 1:
                    self.problems.append("%s: seq/format do not match its name" % path)
            except ValueError as error:
                self.problems.append("%s: not JSON (%s)" % (path, error))
            if check_snapshot_crc:
                cut = body.rfind(b',"crc"')
                if cut < 0 or "%08x" % crc32c(body[:cut]) != json.loads(body)["crc"]:
                    self.problems.append("%s: snapshot checksum mismatch" % path)
        expected = None
        segments = segments_of(data_dir)
        if segments and segments[0][0] > self.snapshot_seq + 1:
            self.problems.append("log starts at %d after snapshot %d" % (segments[0][0], self.snapshot_seq))
        for first, path in segments:
            with open(path, "rb") as handle:
                data = handle.read()
            self.text += data
            if expected is not None and first != expected:
                self.problems.append("%s starts at %d, expected %d" % (path, first, expected))
            expected = first
            for number, (start, end, complete) in enumerate(line_spans(data), 1):
                line = data[start:end]
                where = "%s line %d (byte offset %d)" % (path, number, start)
                if not complete:
                    self.problems.append("%s: incomplete line" % where)
                    continue
                cut = line.rfind(b',"crc":"')
                try:
                    record = json.loads(line)
                except ValueError:
                    self.problems.append("%s: not JSON" % where)
                    continue
                if cut < 0 or "%08x" % crc32c(line[:cut]) != record.get("crc"):
                    self.problems.append("%s: checksum mismatch" % where)
                    continue
                seq = record["seq"]
                if seq != expected:
                    self.problems.append("%s: seq %d, expected %d" % (where, seq, expected))
                if number == 1 and record["type"] != "store.segment":
                    self.problems.append("%s: segment does not start with store.segment" % where)
                self.records[seq] = record["crc"]
                expected = seq + 1
                self.last_seq = seq
        self.last_seq = max(self.last_seq, self.snapshot_seq)

    def holds(self, text):
        return text.encode() in self.text


# ---------------------------------------------------------------------------------------------------------------
# HTTP

class Answer:
    def __init__(self, status, body):
        self.status = status
        self.body = body

    @property
    def ok(self):
        return 200 <= self.status < 300

    @property
    def error(self):
        return self.body.get("error") if isinstance(self.body, dict) else None


def request(port, method, path, body=None, token=None, timeout=30.0):
    """One request on a fresh connection; None when there was no complete answer (daemon gone, timeout)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Connection": "close"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        return Answer(response.status, parsed)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------------
# The daemon

class Daemon:
    """`portero serve` on its own data directory and port, rate limits off, mail into the Maildir."""

    def __init__(self, binary, data_dir, work, snapshot_every=200, extra_env=None):
        self.binary = binary
        self.data_dir = data_dir
        self.work = work
        self.port = free_port()
        self.snapshot_every = snapshot_every
        self.extra_env = extra_env or {}
        self.process = None
        self.launches = 0

    @property
    def maildir(self):
        return os.path.join(self.data_dir, "mail")

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTERO_")}
        for key in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM",
                    "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(key, None)
        env.update({
            "PORTERO_RATE_LOGIN": "0", "PORTERO_RATE_REGISTER": "0", "PORTERO_RATE_VERIFY": "0",
            "PORTERO_RATE_RESEND": "0", "PORTERO_RATE_FORGOT": "0", "PORTERO_LOCKOUT_MAX_FAILURES": "0",
            "PORTERO_ACCESS_TTL": "7d", "PORTERO_SNAPSHOT_EVERY_RECORDS": str(self.snapshot_every),
        })
        env.update(self.extra_env)
        return env

    def command(self):
        return [self.binary, "serve", "--data-dir", self.data_dir, "--listen", "127.0.0.1:%d" % self.port,
                "--socket", "", "--log-format", "json", "--mail-transport", "maildir"]

    @property
    def log_path(self):
        return os.path.join(self.work, "daemon-%d.log" % self.launches)

    def start(self, prefix=None):
        self.launches += 1
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen((prefix or []) + self.command(), stdout=log, stderr=log,
                                        stdin=subprocess.DEVNULL, env=self.environment())
        log.close()

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failure("portero exited with %s at start-up: %s" % (self.process.returncode,
                                                                          self.log_tail()))
            answer = request(self.port, "GET", "/readyz", timeout=2)
            if answer is not None and answer.status == 200:
                return
            time.sleep(0.02)
        raise Failure("portero not ready within %ss: %s" % (timeout, self.log_tail()))

    def start_ready(self):
        self.start()
        self.wait_ready()

    def kill(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process:
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self, launch=None):
        path = os.path.join(self.work, "daemon-%d.log" % (launch or self.launches))
        try:
            with open(path, "r", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def log_tail(self):
        return self.log_text()[-1500:]

    def log_entries(self, launch=None):
        out = []
        for line in self.log_text(launch).splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def check(self):
        """`portero check` on the data directory: (exit status, output)."""
        done = subprocess.run([self.binary, "check", "--data-dir", self.data_dir], capture_output=True,
                              text=True, env=self.environment(), timeout=120)
        return done.returncode, done.stdout + done.stderr


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Traffic and the ledger of acknowledged operations

def latest_code(maildir, email):
    """The newest 6-digit code in a message to `email` (re-delivery after a crash may bring duplicates)."""
    newest = None
    directory = os.path.join(maildir, "new")
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    for name in names:
        path = os.path.join(directory, name)
        try:
            with open(path, "r", errors="replace") as handle:
                text = handle.read()
            stamp = os.stat(path).st_mtime
        except OSError:
            continue
        if ("To: %s" % email) not in text and ("To: <%s>" % email) not in text:
            continue
        body = text.split("\n\n", 1)[-1]
        match = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
        if match and (newest is None or stamp >= newest[0]):
            newest = (stamp, match.group(1))
    return newest[1] if newest else None


class Family:
    """One refresh-token family (a login or verification, then its rotations)."""

    def __init__(self, user, refresh, access):
        self.user = user
        self.tokens = [refresh]  # in order; every one but the head was spent by an acknowledged refresh
        self.access = access  # access token issued with the head
        self.state = "live"  # live | uncertain (a request with the head got no answer) | out | dead
        self.touched = 0  # cycle of the last acknowledged change


class User:
    def __init__(self, email, password):
        self.email = email
        self.password = password
        self.registered = None  # None (unknown) or the cycle it was acknowledged
        self.verified = None
        self.verify_sent = False


class Ledger:
    """What the daemon acknowledged. Each worker thread owns its users; the lists are only appended to."""

    def __init__(self, tag):
        self.tag = tag
        self.lock = threading.Lock()
        self.users = []
        self.families = []
        self.revoked_access = []  # (access token, cycle): logged out with an acknowledged /logout
        self.acknowledged = 0
        self.checked = 0
        self.cycle = 0
        self.counter = 0
        self.lanes = {}
        self.harness_error = False  # set by a worker that hit a bug in this file

    def lane(self, index):
        return self.lanes.setdefault(index, ([], []))

    def new_email(self):
        with self.lock:
            self.counter += 1
            return "%s-%d-%d@example.com" % (self.tag, os.getpid(), self.counter)

    def ack(self):
        with self.lock:
            self.acknowledged += 1


class Worker(threading.Thread):
    """Runs mixed operations until told to stop or the daemon stops answering."""

    def __init__(self, ledger, daemon, stop, seed, lane):
        super().__init__(daemon=True)
        self.ledger = ledger
        self.daemon_ = daemon
        self.stop = stop
        self.random = random.Random(seed)
        # The users and sessions of worker `lane`, kept across cycles so a restarted daemon gets mostly cheap
        # operations on what it already holds (register and login each cost a password hash).
        self.users, self.families = ledger.lane(lane)

    def run(self):
        try:
            while not self.stop.is_set():
                if self.step() is False:
                    return
        except Exception:  # a bug in the harness must not pass silently
            traceback.print_exc()
            self.ledger.harness_error = True

    def step(self):
        r = self.random.random()
        live = [f for f in self.families if f.state == "live"]
        unverified = [u for u in self.users if u.registered is not None and u.verified is None and not u.verify_sent]
        if len(self.users) < 2 or r < 0.12:
            return self.register()
        if unverified and r < 0.45:
            return self.verify(self.random.choice(unverified))
        if live and r < 0.75:
            return self.refresh(self.random.choice(live))
        if live and r < 0.87:
            return self.logout(self.random.choice(live))
        verified = [u for u in self.users if u.verified is not None]
        if verified:
            return self.login(self.random.choice(verified))
        return self.register()

    def register(self):
        user = User(self.ledger.new_email(), "durable horse %d battery" % self.random.randrange(10 ** 9))
        self.users.append(user)
        with self.ledger.lock:
            self.ledger.users.append(user)
        answer = request(self.daemon_.port, "POST", BASE + "/register",
                         {"email": user.email, "password": user.password})
        if answer is None:
            return False
        if answer.status == 201:
            user.registered = self.ledger.cycle
            self.ledger.ack()
        return None

    def verify(self, user):
        code = None
        deadline = time.monotonic() + 2
        while code is None and time.monotonic() < deadline and not self.stop.is_set():
            code = latest_code(self.daemon_.maildir, user.email)
            if code is None:
                time.sleep(0.02)
        if code is None:
            return None
        user.verify_sent = True
        answer = request(self.daemon_.port, "POST", BASE + "/verify-email", {"email": user.email, "code": code})
        if answer is None:
            return False
        if answer.status == 200:
            user.verified = self.ledger.cycle
            self.ledger.ack()
            self.add_family(user, answer.body)
        return None

    def login(self, user):
        answer = request(self.daemon_.port, "POST", BASE + "/login",
                         {"email": user.email, "password": user.password})
        if answer is None:
            return False
        if answer.status == 200:
            self.ledger.ack()
            self.add_family(user, answer.body)
        return None

    def add_family(self, user, body):
        family = Family(user, body["refresh_token"], body["access_token"])
        family.touched = self.ledger.cycle
        self.families.append(family)
        with self.ledger.lock:
            self.ledger.families.append(family)

    def refresh(self, family):
        family.state = "uncertain"
        answer = request(self.daemon_.port, "POST", BASE + "/refresh", {"refresh_token": family.tokens[-1]})
        if answer is None:
            return False
        if answer.status == 200:
            family.tokens.append(answer.body["refresh_token"])
            family.access = answer.body["access_token"]
            family.state = "live"
            family.touched = self.ledger.cycle
            self.ledger.ack()
        return None

    def logout(self, family):
        family.state = "uncertain"
        answer = request(self.daemon_.port, "POST", BASE + "/logout", {"refresh_token": family.tokens[-1]},
                         token=family.access)
        if answer is None:
            return False
        if answer.status == 200:
            family.state = "out"
            family.touched = self.ledger.cycle
            with self.ledger.lock:
                self.ledger.revoked_access.append((family.access, self.ledger.cycle))
            self.ledger.ack()
        return None


def run_traffic(ledger, daemon, workers, seed, until):
    """Starts `workers` threads, calls `until()` (which returns when the daemon should die), stops them."""
    stop = threading.Event()
    threads = [Worker(ledger, daemon, stop, seed * 100 + index, index) for index in range(workers)]
    for thread in threads:
        thread.start()
    try:
        until()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    if ledger.harness_error:
        raise Failure("harness error (traceback above)")


def verify_registrations(ledger, daemon):
    """Reads only (for a daemon that cannot write): every acknowledged registration and verification is there."""
    failures = []
    for user in ledger.users:
        if user.registered is None:
            continue
        answer = request(daemon.port, "GET", BASE + "/verification-status?email=" + user.email)
        ledger.checked += 1
        if answer is None or answer.status != 200:
            failures.append("lost registration of %s: %s" % (user.email, answer and answer.status))
        elif user.verified is not None and answer.body.get("verified") is not True:
            failures.append("lost verification of %s" % user.email)
    return failures


def verify_ledger(ledger, daemon, since, sample, rng):
    """After a restart: everything acknowledged since cycle `since` (and a sample of older things) is there, checked
    through the API. Uses up spent tokens (a reuse revokes the family) and refreshes live heads."""
    failures = []
    port = daemon.port
    users = [u for u in ledger.users if u.registered is not None]
    recent = [u for u in users if u.registered >= since or (u.verified is not None and u.verified >= since)]
    recent_ids = set(map(id, recent))
    older = [u for u in users if id(u) not in recent_ids]
    for user in recent + rng.sample(older, min(sample, len(older))):
        answer = request(port, "GET", BASE + "/verification-status?email=" + user.email)
        ledger.checked += 1
        if answer is None or answer.status != 200:
            failures.append("lost registration of %s: %s" % (user.email, answer and answer.status))
        elif user.verified is not None and answer.body.get("verified") is not True:
            failures.append("lost verification of %s" % user.email)
    for token, cycle in [t for t in ledger.revoked_access if t[1] >= since] + \
            rng.sample(ledger.revoked_access, min(sample, len(ledger.revoked_access))):
        answer = request(port, "GET", BASE + "/profile", token=token)
        ledger.checked += 1
        if answer is None or answer.status != 401 or answer.error != "token_revoked":
            failures.append("a logged-out access token is no longer revoked: %s %s" %
                            (answer and answer.status, answer and answer.error))
    families = [f for f in ledger.families if f.touched >= since and f.state != "dead"]
    others = [f for f in ledger.families if f.touched < since and f.state in ("live", "out")]
    for family in families + rng.sample(others, min(sample, len(others))):
        if family.state == "out":
            answer = request(port, "POST", BASE + "/refresh", {"refresh_token": family.tokens[-1]})
            ledger.checked += 1
            if answer is None or answer.status != 401:
                failures.append("a logged-out refresh token works again: %s" % (answer and answer.status))
            family.state = "dead"
            continue
        if family.state == "live":
            answer = request(port, "POST", BASE + "/refresh", {"refresh_token": family.tokens[-1]})
            ledger.checked += 1
            if answer is None or answer.status != 200:
                failures.append("an acknowledged refresh token is refused: %s %s" %
                                (answer and answer.status, answer and answer.error))
                family.state = "dead"
                continue
            family.tokens.append(answer.body["refresh_token"])
            family.access = answer.body["access_token"]
            family.touched = ledger.cycle
        if len(family.tokens) >= 2 and rng.random() < 0.5:
            # The newest spent token: a reuse must be refused (and revokes the family).
            answer = request(port, "POST", BASE + "/refresh", {"refresh_token": family.tokens[-2]})
            ledger.checked += 1
            if answer is None or answer.status != 401:
                failures.append("a spent refresh token works again: %s" % (answer and answer.status))
            family.state = "dead"
    return failures


def verify_files(ledger, daemon, previous, since):
    """Our own parse of the files: no problem, seq at least where the last quiet point left it, every record that
    was in the log then still there byte-identical (same CRC), every acknowledged registration's email in the files.
    Returns (failures, view)."""
    view = LogView(daemon.data_dir)
    failures = list(view.problems)
    if previous is not None:
        if view.last_seq < previous.last_seq:
            failures.append("seq went back from %d to %d" % (previous.last_seq, view.last_seq))
        for seq, crc in previous.records.items():
            if seq in view.records and view.records[seq] != crc:
                failures.append("record %d changed" % seq)
            if seq > view.snapshot_seq and seq not in view.records:
                failures.append("record %d vanished" % seq)
    for user in ledger.users:
        if user.registered is not None and user.registered >= since and not view.holds(user.email):
            failures.append("registration of %s not in the files" % user.email)
    return failures, view


def wait_quiet(data_dir, quiet=0.5, timeout=30.0):
    """Waits until no file in the data directory changed for `quiet` seconds (the mail outbox records its
    deliveries in the background), so a kill leaves no write in flight."""
    def fingerprint():
        out = []
        for name in sorted(os.listdir(data_dir)):
            try:
                info = os.stat(os.path.join(data_dir, name))
            except OSError:
                continue
            out.append((name, info.st_size, info.st_mtime_ns))
        return out

    deadline = time.monotonic() + timeout
    last = fingerprint()
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = fingerprint()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise Failure("the data directory never went quiet")


def check_clean(daemon):
    status, output = daemon.check()
    if status != 0 or "problem:" in output:
        return ["portero check is not clean (exit %d): %s" % (status, output[-800:])]
    return []


# ---------------------------------------------------------------------------------------------------------------
# Parts

class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.failures = []
        self.figures = {}

    def fail(self, part, message):
        with self.lock:
            self.failures.append("[%s] %s" % (part, message))
        print("FAIL [%s] %s" % (part, message), flush=True)

    def add(self, part, key, amount=1):
        with self.lock:
            figures = self.figures.setdefault(part, {})
            figures[key] = figures.get(key, 0) + amount


def crash_epoch(ctx, part, epoch, cycles, damage=None):
    """One data directory through `cycles` kill/restart cycles. `damage(daemon, view_before, rng)` may change the
    files between kill and restart (power-loss simulation); it returns whether a cut must be logged."""
    rng = random.Random(ctx.seed * 1000 + epoch)
    work = tempfile.mkdtemp(prefix="%s-%d-" % (part, epoch), dir=ctx.root)
    data_dir = os.path.join(work, "data")
    daemon = Daemon(ctx.binary, data_dir, work, snapshot_every=rng.choice([20, 50, 150]))
    ledger = Ledger("%s%d" % (part, epoch))
    previous = None
    try:
        daemon.start_ready()
        wait_quiet(data_dir, quiet=0.3)
        for cycle in range(1, cycles + 1):
            ledger.cycle = cycle
            # The daemon idles here (start-up or the checks below waited for quiet): everything in the files was
            # synced, and what earlier cycles acknowledged is in it. That is where the acknowledged floor starts.
            newest = segments_of(data_dir)[-1][1]
            sizes = {newest: os.path.getsize(newest)}

            def until():
                deadline = time.monotonic() + rng.uniform(0.05, 1.2)
                while time.monotonic() < deadline:
                    time.sleep(0.01)
                daemon.kill()

            if damage is not None:
                # Power loss needs to know what was synced: a client that got a 2xx at time t knows its record is
                # within the size the newest segment had at t. The largest such size is the acknowledged floor.
                original_ack = ledger.ack

                def ack_and_measure():
                    original_ack()
                    segments = segments_of(data_dir)
                    if segments:
                        path = segments[-1][1]
                        try:
                            size = os.path.getsize(path)
                        except OSError:
                            return
                        with ledger.lock:
                            sizes[path] = max(sizes.get(path, 0), size)

                ledger.ack = ack_and_measure
            acknowledged_before = ledger.acknowledged
            run_traffic(ledger, daemon, ctx.workers, ctx.seed * 1000 + epoch * 10007 + cycle, until)
            if damage is not None:
                ledger.ack = original_ack
            if ledger.harness_error:
                raise Failure("harness error (traceback above)")
            ctx.results.add(part, "acknowledged ops", ledger.acknowledged - acknowledged_before)
            cut_expected = False
            if damage is not None:
                cut_expected = damage(data_dir, sizes, rng, ctx.results, part)
            daemon.start()
            try:
                daemon.wait_ready()
            except Failure as error:
                ctx.results.fail(part, "epoch %d cycle %d: start-up failed: %s" % (epoch, cycle, error))
                return
            if cut_expected:
                cuts = [e for e in daemon.log_entries() if e.get("message") == "cut a torn tail off the log"]
                if len(cuts) != 1:
                    ctx.results.fail(part, "epoch %d cycle %d: the cut was not logged once (%d)" %
                                     (epoch, cycle, len(cuts)))
                else:
                    ctx.results.add(part, "cuts logged")
            failures = verify_ledger(ledger, daemon, since=cycle - 1, sample=5, rng=rng)
            # The files, read while the daemon idles (it may still record a mail delivery or take a snapshot:
            # wait for quiet, and look twice before calling anything a failure).
            for attempt in (1, 2):
                wait_quiet(data_dir, quiet=0.3)
                try:
                    file_failures, view = verify_files(ledger, daemon, previous, since=cycle - 1)
                except OSError as error:
                    file_failures, view = ["files changed while read: %s" % error], None
                file_failures += check_clean(daemon)
                if not file_failures:
                    break
            failures += file_failures
            previous = view
            for message in failures:
                ctx.results.fail(part, "epoch %d cycle %d: %s" % (epoch, cycle, message))
            ctx.results.add(part, "cycles")
            if failures:
                return
    finally:
        daemon.kill()
        ctx.results.add(part, "checks", ledger.checked)
        if not ctx.keep:
            shutil.rmtree(work, ignore_errors=True)


def run_epochs(ctx, part, cycles, damage=None):
    per_epoch = ctx.epoch_cycles
    epochs = []
    left = cycles
    while left > 0:
        epochs.append(min(per_epoch, left))
        left -= epochs[-1]
    with ThreadPoolExecutor(max_workers=ctx.parallel) as pool:
        futures = [pool.submit(crash_epoch, ctx, part, index, count, damage) for index, count in enumerate(epochs)]
        for index, future in enumerate(futures):
            try:
                future.result()
            except Failure as error:
                ctx.results.fail(part, str(error))
            if ctx.verbose:
                print("%s: epoch %d done, %s" % (part, index, json.dumps(ctx.results.figures.get(part, {}))),
                      flush=True)


def part_kill(ctx):
    run_epochs(ctx, "kill", ctx.cycles)


POWERLOSS_MODES = ["zeroed", "random", "half", "drop"]


def powerloss_damage(data_dir, sizes, rng, results, part):
    """After the kill: replace what the newest segment holds beyond the acknowledged floor. A power loss can only
    lose bytes that were never synced, and no byte beyond that floor was acknowledged. Returns whether the result
    ends in an incomplete line (so recovery must cut it and log the cut)."""
    segments = segments_of(data_dir)
    if not segments:
        return False
    path = segments[-1][1]
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    header_end = data.find(b"\n") + 1
    floor = max(sizes.get(path, 0), header_end)
    unsynced = len(data) - floor
    mode = rng.choice(POWERLOSS_MODES)
    results.add(part, "mode " + mode)
    if mode == "drop":
        del data[floor:]
        cut = floor > 0 and data[-1:] != b"\n"
    elif mode == "zeroed":
        # The file size reached the disk, the data did not: zeros (extended by up to a page if nothing was pending).
        length = unsynced if unsynced > 0 else rng.randint(1, 4096)
        data[floor:] = bytes(length)
        cut = True
    elif mode == "random":
        length = unsynced if unsynced > 0 else rng.randint(1, 4096)
        tail = bytearray(rng.getrandbits(8) for _ in range(length))
        # A tail ending in a newline would be a complete line: that reads as bit rot in a synced record and
        # refuses start-up by design. Real torn writes end mid-line, so the simulated ones do too.
        if tail[-1] == 0x0A:
            tail[-1] = 0x20
        data[floor:] = tail
        cut = True
    else:  # half: half of the first unacknowledged record, or half a copy of the last record if none is pending
        if unsynced > 0:
            next_newline = data.find(b"\n", floor)
            end = next_newline if next_newline >= 0 else len(data)
            keep = floor + max(1, (end - floor) // 2)
            if keep >= end:
                keep = end - 1 if end - 1 > floor else floor + 1
            del data[keep:]
        else:
            last_start = data.rfind(b"\n", 0, len(data) - 1) + 1
            record = bytes(data[last_start:])
            data += record[: max(1, len(record) // 2)]
        cut = data[-1:] != b"\n"
    with open(path, "wb") as handle:
        handle.write(data)
    results.add(part, "bytes garbled", max(unsynced, 0))
    return cut


def part_powerloss(ctx):
    run_epochs(ctx, "powerloss", ctx.powerloss_cycles, damage=powerloss_damage)


# --- fault injection with strace --------------------------------------------------------------------------------

def strace_attach(pid, target, inject, work, name):
    """Attaches strace to every thread of `pid`, tampering only with syscalls on `target` (-P); returns once
    attached. `when=1`: strace counts per thread, but a fail-stopped store never touches the file again and the
    snapshot steps each touch their file once, so the first matching call is the one."""
    syscall = inject.split(":", 1)[0]
    log_path = os.path.join(work, "strace-%s.log" % name)
    log = open(log_path, "wb")
    process = subprocess.Popen(["strace", "-f", "-p", str(pid), "-o", os.path.join(work, "trace-%s" % name),
                                "-e", "trace=" + syscall, "-P", target, "--inject=" + inject],
                               stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    log.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(log_path, "r", errors="replace") as handle:
            text = handle.read()
        if "attached" in text:
            return process
        if process.poll() is not None:
            raise Failure("strace failed: %s" % text)
        time.sleep(0.01)
    process.kill()
    raise Failure("strace did not attach")


def template_dir(ctx, name):
    """A data directory with one verified user, kept stopped: (path, email, password, refresh, access)."""
    work = tempfile.mkdtemp(prefix="template-%s-" % name, dir=ctx.root)
    data_dir = os.path.join(work, "data")
    daemon = Daemon(ctx.binary, data_dir, work, snapshot_every=100000)
    daemon.start_ready()
    email = "template-%s@example.com" % name
    password = "durable template password"
    answer = request(daemon.port, "POST", BASE + "/register", {"email": email, "password": password})
    if answer is None or answer.status != 201:
        raise Failure("template register: %s" % (answer and answer.status))
    code = None
    deadline = time.monotonic() + 20
    while code is None and time.monotonic() < deadline:
        code = latest_code(daemon.maildir, email)
        time.sleep(0.02)
    answer = request(daemon.port, "POST", BASE + "/verify-email", {"email": email, "code": code})
    if answer is None or answer.status != 200:
        raise Failure("template verify: %s" % (answer and answer.status))
    wait_quiet(data_dir)  # the mail outbox's record of the delivery, so no background write follows
    daemon.kill()
    return work, data_dir, email, password, answer.body["refresh_token"], answer.body["access_token"]


FAULTS = {
    "eio-fdatasync": "fdatasync:error=EIO:when=1",
    "enospc-write": "write:error=ENOSPC:when=1",
    "short-write": "write:retval=7:when=1",
}


def one_fault(ctx, template, kind, n):
    """Fault on the n-th store write of a daemon's life: n-1 acknowledged refreshes (one batch, so one write and
    one fdatasync, each), then strace attaches and the n-th fails."""
    _, template_data, email, password, refresh, access = template
    work = tempfile.mkdtemp(prefix="fault-%s-%d-" % (kind, n), dir=ctx.root)
    data_dir = os.path.join(work, "data")
    shutil.copytree(template_data, data_dir)
    daemon = Daemon(ctx.binary, data_dir, work, snapshot_every=100000)
    failures = []
    tracer = None
    try:
        daemon.start_ready()
        tokens = [refresh]
        for _ in range(n - 1):
            answer = request(daemon.port, "POST", BASE + "/refresh", {"refresh_token": tokens[-1]})
            if answer is None or answer.status != 200:
                raise Failure("refresh before the fault: %s" % (answer and answer.status))
            tokens.append(answer.body["refresh_token"])
            access = answer.body["access_token"]
        segment = os.path.realpath(segments_of(data_dir)[-1][1])
        tracer = strace_attach(daemon.process.pid, segment, FAULTS[kind], work, "%s-%d" % (kind, n))
        answer = request(daemon.port, "POST", BASE + "/refresh", {"refresh_token": tokens[-1]})
        if answer is None or answer.status != 503 or answer.error != "unavailable":
            failures.append("the failed batch answered %s %s, not 503 unavailable" %
                            (answer and answer.status, answer and answer.error))
        for _ in range(3):  # writes stay refused
            answer = request(daemon.port, "POST", BASE + "/login", {"email": email, "password": password})
            if answer is None or answer.status != 503:
                failures.append("a write after the failure answered %s" % (answer and answer.status))
        answer = request(daemon.port, "GET", BASE + "/verification-status?email=" + email)
        if answer is None or answer.status != 200:
            failures.append("reads stopped: verification-status %s" % (answer and answer.status))
        answer = request(daemon.port, "GET", BASE + "/profile", token=access)
        if answer is None or answer.status != 200:
            failures.append("reads stopped: profile %s" % (answer and answer.status))
        critical = [e for e in daemon.log_entries() if e.get("level") == "critical"]
        if len(critical) != 1:
            failures.append("%d critical log lines, want 1" % len(critical))
        daemon.kill()
        tracer.wait(timeout=30)
        tracer = None
        with open(os.path.join(work, "trace-%s-%d" % (kind, n)), errors="replace") as handle:
            calls = [line for line in handle if "(INJECTED)" in line]
        syscall = FAULTS[kind].split(":", 1)[0]
        if len(calls) != 1 or (" %s(" % syscall) not in calls[0]:
            failures.append("strace did not inject exactly one %s on the segment: %s" % (syscall, calls))
        daemon.start_ready()
        # Acknowledged: every refresh before the fault. The last spent token must be refused, the user intact.
        answer = request(daemon.port, "GET", BASE + "/verification-status?email=" + email)
        if answer is None or answer.status != 200 or answer.body.get("verified") is not True:
            failures.append("user lost after restart")
        if len(tokens) >= 2:
            answer = request(daemon.port, "POST", BASE + "/refresh", {"refresh_token": tokens[-2]})
            if answer is None or answer.status != 401:
                failures.append("an acknowledged refresh was undone: %s" % (answer and answer.status))
        answer = request(daemon.port, "POST", BASE + "/login", {"email": email, "password": password})
        if answer is None or answer.status != 200:
            failures.append("no write after restart: %s" % (answer and answer.status))
        failures += check_clean(daemon)
        view = LogView(data_dir)
        failures += view.problems
        if "cut a torn tail" in daemon.log_text():
            failures.append("something torn was left behind and cut at restart")
        ctx.results.add("faults", "runs")
        ctx.results.add("faults", "acknowledged ops", n - 1)
    except Failure as error:
        failures.append(str(error))
    finally:
        if tracer is not None:
            tracer.kill()
        daemon.kill()
        if not ctx.keep:
            shutil.rmtree(work, ignore_errors=True)
    for message in failures:
        ctx.results.fail("faults", "%s at n=%d: %s" % (kind, n, message))


def part_faults(ctx):
    template = template_dir(ctx, "faults")
    jobs = [(kind, n) for kind in FAULTS for n in ctx.fault_ns]
    with ThreadPoolExecutor(max_workers=ctx.parallel) as pool:
        list(pool.map(lambda job: one_fault(ctx, template, *job), jobs))
    shutil.rmtree(template[0], ignore_errors=True)


def part_fullfs(ctx):
    """A real full disk: the data directory on a small tmpfs. Writes fill it up, real short writes and ENOSPC
    happen, the store fails; after a restart on the still-full disk everything acknowledged is there; after the
    disk is grown, writes work again."""
    if os.geteuid() != 0:
        print("fullfs: skipped (mounting a tmpfs needs root)")
        return
    for round_ in range(ctx.fullfs_rounds):
        work = tempfile.mkdtemp(prefix="fullfs-%d-" % round_, dir=ctx.root)
        mount = os.path.join(work, "mnt")
        os.mkdir(mount)
        size = 160 + 16 * round_
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk,mode=0700" % size, "tmpfs", mount],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print("fullfs: skipped (cannot mount a tmpfs: %s)" % done.stderr.strip())
            shutil.rmtree(work, ignore_errors=True)
            return
        data_dir = os.path.join(mount, "data")
        daemon = Daemon(ctx.binary, data_dir, work, snapshot_every=100000)
        ledger = Ledger("full%d" % round_)
        failures = []
        try:
            daemon.start_ready()
            ledger.cycle = 1

            def until():
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    answer = request(daemon.port, "GET", "/readyz")
                    if answer is not None and answer.status != 200:
                        return
                    time.sleep(0.05)
                raise Failure("the tmpfs never filled up")

            run_traffic(ledger, daemon, ctx.workers, ctx.seed + round_, until)
            answer = request(daemon.port, "POST", BASE + "/register",
                             {"email": ledger.new_email(), "password": "after the disk filled"})
            if answer is None or answer.status != 503:
                failures.append("a write on the full disk answered %s" % (answer and answer.status))
            registered = [u for u in ledger.users if u.registered is not None]
            if registered:
                answer = request(daemon.port, "GET", BASE + "/verification-status?email=" + registered[0].email)
                if answer is None or answer.status != 200:
                    failures.append("reads stopped on the full disk")
            critical = [e for e in daemon.log_entries() if e.get("level") == "critical"]
            if len(critical) != 1:
                failures.append("%d critical log lines, want 1" % len(critical))
            daemon.kill()
            # Restart on the disk as full as it is: start-up must succeed (cutting what the full disk tore).
            daemon.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if daemon.process.poll() is not None:
                    break
                if request(daemon.port, "GET", "/healthz") is not None:
                    break
                time.sleep(0.02)
            if daemon.process.poll() is not None:
                failures.append("start-up on the full disk failed: %s" % daemon.log_tail())
            else:
                failures += verify_registrations(ledger, daemon)
                daemon.kill()
            subprocess.run(["mount", "-o", "remount,size=4m", mount], check=True)
            daemon.start_ready()
            failures += verify_ledger(ledger, daemon, since=0, sample=0, rng=random.Random(1))
            answer = request(daemon.port, "POST", BASE + "/register",
                             {"email": ledger.new_email(), "password": "after the disk grew"})
            if answer is None or answer.status != 201:
                failures.append("no write after the disk grew: %s" % (answer and answer.status))
            daemon.stop()
            failures += check_clean(daemon)
            failures += LogView(data_dir).problems
            ctx.results.add("fullfs", "rounds")
            ctx.results.add("fullfs", "checks", ledger.checked)
            ctx.results.add("fullfs", "acknowledged ops", ledger.acknowledged)
        except Failure as error:
            failures.append(str(error))
        finally:
            daemon.kill()
            subprocess.run(["umount", "-l", mount], capture_output=True)
            if not ctx.keep:
                shutil.rmtree(work, ignore_errors=True)
        for message in failures:
            ctx.results.fail("fullfs", "round %d: %s" % (round_, message))


# --- snapshot and compaction -------------------------------------------------------------------------------------

SNAPSHOT_STEPS = ["temp-write", "temp-fsync", "rename", "unlink-first", "unlink-last", "done"]


def part_snapshot(ctx):
    jobs = [(step, rep) for rep in range(ctx.snapshot_reps) for step in SNAPSHOT_STEPS]
    with ThreadPoolExecutor(max_workers=ctx.parallel) as pool:
        list(pool.map(lambda job: one_snapshot_crash(ctx, *job), jobs))


def one_snapshot_crash(ctx, step, rep):
    """A snapshot (the one SIGTERM takes on the way out) killed at one step, found by strace on the step's own file:
    the temp file's first write or its fsync, the rename, the removal of the first or last covered file."""
    rng = random.Random(ctx.seed * 7 + rep * 31 + SNAPSHOT_STEPS.index(step))
    work = tempfile.mkdtemp(prefix="snap-%s-%d-" % (step, rep), dir=ctx.root)
    data_dir = os.path.join(work, "data")
    daemon = Daemon(ctx.binary, data_dir, work, snapshot_every=100000)
    ledger = Ledger("snap%s%d" % (step.replace("-", ""), rep))
    failures = []
    tracer = None
    try:
        daemon.start_ready()
        # Two rounds of traffic with a snapshot between, so there is an old snapshot and old segments to remove.
        for round_ in (1, 2):
            ledger.cycle = round_

            def until():
                time.sleep(rng.uniform(0.3, 0.8))

            run_traffic(ledger, daemon, 2, rng.randrange(10 ** 6), until)
            if round_ == 1:
                daemon.stop()
                daemon.start_ready()
        wait_quiet(data_dir)  # the daemon is idle: no write but the snapshot's
        before = LogView(daemon.data_dir)
        snapshot_seq = before.last_seq  # SIGTERM's snapshot rolls at last+1 and covers up to last
        temp = os.path.realpath(os.path.join(data_dir, "snapshot-%s.json.tmp" % pad(snapshot_seq)))
        old_files = [p for _, p in snapshots_of(data_dir)] + [p for _, p in segments_of(data_dir)]
        targets = {
            "temp-write": (temp, "write:signal=SIGKILL:when=1"),
            "temp-fsync": (temp, "fsync:signal=SIGKILL:when=1"),
            "rename": (temp, "rename:signal=SIGKILL:when=1"),
            "unlink-first": (os.path.realpath(old_files[0]), "unlink:signal=SIGKILL:when=1"),
            "unlink-last": (os.path.realpath(old_files[-1]), "unlink:signal=SIGKILL:when=1"),
        }
        if step in targets:
            target, inject = targets[step]
            tracer = strace_attach(daemon.process.pid, target, inject, work, step)
        daemon.process.send_signal(signal.SIGTERM)
        daemon.process.wait(timeout=60)
        if tracer is not None:
            tracer.wait(timeout=30)
            tracer = None
        died = daemon.process.returncode
        if step != "done" and died != -signal.SIGKILL:
            failures.append("the kill at %s did not happen (exit %s)" % (step, died))
        middle = set(os.listdir(data_dir))
        new_name = "snapshot-%s.json" % pad(snapshot_seq)
        old_names = [os.path.basename(p) for p in old_files]
        expected_at_kill = {
            "temp-write": (temp, True), "temp-fsync": (temp, True), "rename": (new_name, False),
            "unlink-first": (old_names[0], True), "unlink-last": (old_names[-1], True),
        }
        if step in expected_at_kill:
            name, present = expected_at_kill[step]
            if (os.path.basename(name) in middle) != present:
                failures.append("at the kill, %s was %s" % (os.path.basename(name),
                                                             "missing" if present else "already there"))
        if step == "unlink-last" and any(n in middle for n in old_names[:-1]):
            failures.append("at the kill, earlier covered files were still there")
        daemon.start_ready()
        after = LogView(data_dir)
        if after.snapshot_seq not in (before.snapshot_seq, snapshot_seq):
            failures.append("snapshot seq %d is neither the old %d nor the new %d" %
                            (after.snapshot_seq, before.snapshot_seq, snapshot_seq))
        if step in ("unlink-first", "unlink-last", "done") and after.snapshot_seq != snapshot_seq:
            failures.append("the renamed snapshot was not used")
        failures += after.problems
        failures += verify_ledger(ledger, daemon, since=0, sample=0, rng=rng)
        failures += check_clean(daemon)
        ctx.results.add("snapshot", "crashes")
        ctx.results.add("snapshot", "step " + step)
        ctx.results.add("snapshot", "checks", ledger.checked)
        ctx.results.add("snapshot", "acknowledged ops", ledger.acknowledged)
        if ctx.verbose:
            print("snapshot %s rep %d: files at the crash %s" % (step, rep, middle))
    except Failure as error:
        failures.append(str(error))
    finally:
        if tracer is not None:
            tracer.kill()
        daemon.kill()
        if not ctx.keep:
            shutil.rmtree(work, ignore_errors=True)
    for message in failures:
        ctx.results.fail("snapshot", "%s rep %d: %s" % (step, rep, message))


# --- bit rot -----------------------------------------------------------------------------------------------------

def part_bitrot(ctx):
    """One bit flipped in one complete record (newline excluded, unless --bitrot-newlines) of a data directory a
    killed daemon left: start-up refuses every time naming file, line and byte offset; `portero check` agrees.

    The contract (docs/decisions.md) cuts a checksum-failing *last* record off with a warning instead, so flips in the last record of the
    last segment (and in the newline before it, which merges it with the one before) are trials of their own:
    `portero check` must call it a torn tail the daemon cuts (exit 1), naming the same line."""
    rng = random.Random(ctx.seed + 99)
    work = tempfile.mkdtemp(prefix="bitrot-", dir=ctx.root)
    data_dir = os.path.join(work, "data")
    daemon = Daemon(ctx.binary, data_dir, work, snapshot_every=60)
    ledger = Ledger("rot")
    daemon.start_ready()
    run_traffic(ledger, daemon, 3, ctx.seed, lambda: time.sleep(2.5))
    wait_quiet(data_dir)
    daemon.kill()
    view = LogView(data_dir)
    if view.problems:
        ctx.results.fail("bitrot", "the pristine directory has problems: %s" % view.problems)
        return
    # Every byte of every complete line of the segments recovery reads.
    candidates = []
    newlines = []
    last_record = []
    segments = segments_of(data_dir)
    start = max([i for i, (first, _) in enumerate(segments) if first <= view.snapshot_seq + 1] or [0])
    for _, path in segments[start:]:  # the segments recovery reads
        with open(path, "rb") as handle:
            data = handle.read()
        spans = line_spans(data)
        is_last_segment = path == segments[-1][1]
        for number, (start, end, complete) in enumerate(spans, 1):
            if is_last_segment and number == len(spans):
                last_record += [(path, offset, number, start) for offset in range(start, end + 1)]
                continue
            for offset in range(start, end):
                candidates.append((path, offset, number, start))
            if not (is_last_segment and number == len(spans) - 1):
                newlines.append((path, end, number, start))
    picks = rng.sample(candidates, min(ctx.bitrot_offsets, len(candidates)))
    picks = [(p, "record") for p in picks]
    picks += [(p, "last record") for p in rng.sample(last_record, min(20, len(last_record)))]
    if ctx.bitrot_newlines:
        picks += [(p, "newline") for p in rng.sample(newlines, min(ctx.bitrot_newlines, len(newlines)))]
    pristine = {path: open(path, "rb").read() for _, path in segments_of(data_dir)}
    copies = []
    for index in range(ctx.parallel):
        copy = os.path.join(work, "copy-%d" % index)
        shutil.copytree(data_dir, copy)
        copies.append(copy)
    ctx.results.add("bitrot", "bytes in complete records", len(candidates))

    def trial(index, pick):
        (path, offset, number, start), what = pick
        copy = copies[index % ctx.parallel]
        target = os.path.join(copy, os.path.basename(path))
        bit = rng.randrange(8)
        data = bytearray(pristine[path])
        data[offset] ^= 1 << bit
        with open(target, "wb") as handle:
            handle.write(data)
        where = "%s line %d (byte offset %d)" % (target, number, start)
        failures = []
        if what == "last record":
            status, output = Daemon(ctx.binary, copy, work, snapshot_every=100000).check()
            if status != 1 or where not in output or "torn tail" not in output:
                failures.append("portero check (exit %d) did not report a torn tail at %s: %s" %
                                (status, where, output[-600:]))
            with open(target, "wb") as handle:
                handle.write(pristine[path])
            for message in failures:
                ctx.results.fail("bitrot", "%s flip of bit %d at %s offset %d: %s" %
                                 (what, bit, os.path.basename(path), offset, message))
            ctx.results.add("bitrot", "offsets (%s)" % what)
            return
        probe = Daemon(ctx.binary, copy, work, snapshot_every=100000)
        probe.launches = 1000 + index
        probe.start()
        try:
            probe.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            probe.kill()
        if probe.process.returncode == 0 or probe.process.returncode is None:
            failures.append("started despite a flipped bit")
        text = probe.log_text()
        if where not in text:
            failures.append("start-up did not name %s: %s" % (where, text[-600:]))
        status, output = probe.check()
        if status != 2 or where not in output:
            failures.append("portero check (exit %d) did not name %s: %s" % (status, where, output[-600:]))
        with open(target, "wb") as handle:  # back to pristine for the next trial on this copy
            handle.write(pristine[path])
        for name in os.listdir(copy):  # nothing else may have changed
            full = os.path.join(copy, name)
            original = os.path.join(data_dir, name)
            if name.startswith(("log-", "snapshot-")) and (not os.path.exists(original) or
                                                            open(full, "rb").read() != open(original, "rb").read()):
                failures.append("a refused start-up changed %s" % name)
                shutil.copyfile(original, full) if os.path.exists(original) else os.remove(full)
        try:
            os.remove(probe.log_path)
        except OSError:
            pass
        for message in failures:
            ctx.results.fail("bitrot", "%s flip of bit %d at %s offset %d: %s" %
                             (what, bit, os.path.basename(path), offset, message))
        ctx.results.add("bitrot", "offsets (%s)" % what)

    # Each copy is used by one thread at a time: trials for copy k run in order on worker k.
    def lane(k):
        for index in range(k, len(picks), ctx.parallel):
            trial(index, picks[index])

    with ThreadPoolExecutor(max_workers=ctx.parallel) as pool:
        list(pool.map(lane, range(ctx.parallel)))
    if not ctx.keep:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------

class Context:
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=".build/debug/portero")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS))
    parser.add_argument("--cycles", type=int, default=50, help="kill cycles")
    parser.add_argument("--powerloss-cycles", type=int, default=30)
    parser.add_argument("--epoch-cycles", type=int, default=25, help="cycles per data directory")
    parser.add_argument("--fault-n", default="1-50", help="N values for the faults part, e.g. 1-50 or 1,2,7")
    parser.add_argument("--fullfs-rounds", type=int, default=2)
    parser.add_argument("--snapshot-reps", type=int, default=20)
    parser.add_argument("--bitrot-offsets", type=int, default=1000)
    parser.add_argument("--bitrot-newlines", type=int, default=0,
                        help="also flip this many record-ending newlines")
    parser.add_argument("--workers", type=int, default=4, help="client threads per daemon")
    parser.add_argument("--parallel", type=int, default=2, help="independent cycles run at once")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--ci", action="store_true", help="the bounded run of `make test`")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    ctx = Context()
    ctx.binary = os.path.abspath(args.binary)
    if not os.access(ctx.binary, os.X_OK):
        print("no portero binary at %s (swift build first)" % ctx.binary, file=sys.stderr)
        return 2
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    for part in parts:
        if part not in PARTS:
            print("unknown part %s" % part, file=sys.stderr)
            return 2
    ctx.seed = args.seed if args.seed is not None else random.randrange(1, 10 ** 6)
    ctx.cycles = args.cycles
    ctx.powerloss_cycles = args.powerloss_cycles
    ctx.epoch_cycles = args.epoch_cycles
    ctx.fullfs_rounds = args.fullfs_rounds
    ctx.snapshot_reps = args.snapshot_reps
    ctx.bitrot_offsets = args.bitrot_offsets
    ctx.bitrot_newlines = args.bitrot_newlines
    ctx.workers = args.workers
    ctx.parallel = args.parallel
    ctx.keep = args.keep
    ctx.verbose = args.verbose
    spec = args.fault_n
    if "-" in spec:
        low, high = spec.split("-")
        ctx.fault_ns = list(range(int(low), int(high) + 1))
    else:
        ctx.fault_ns = [int(x) for x in spec.split(",")]
    if args.ci:
        ctx.cycles, ctx.powerloss_cycles, ctx.fullfs_rounds, ctx.epoch_cycles = 50, 20, 1, 10
        ctx.fault_ns = [1, 2, 9, 50]
        ctx.snapshot_reps, ctx.bitrot_offsets, ctx.bitrot_newlines = 2, 100, 10
    if ("faults" in parts or "snapshot" in parts) and shutil.which("strace") is None:
        print("strace is missing (apt-get install strace)", file=sys.stderr)
        return 2
    if "faults" in parts or "snapshot" in parts:
        probe = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "--inject=getpid:retval=1", "true"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            print("faults, snapshot: skipped (strace cannot trace here: %s)" % probe.stderr.strip())
            parts = [p for p in parts if p not in ("faults", "snapshot")]
    ctx.results = Results()
    ctx.root = tempfile.mkdtemp(prefix="portero-durability-")
    print("durability campaign: parts %s, seed %d, binary %s" % (",".join(parts), ctx.seed, ctx.binary),
          flush=True)
    started = time.monotonic()
    try:
        for part in parts:
            part_started = time.monotonic()
            try:
                globals()["part_" + part](ctx)
            except Failure as error:
                ctx.results.fail(part, str(error))
            elapsed = time.monotonic() - part_started
            ctx.results.add(part, "seconds", round(elapsed))
            print("%s: %s (%.0fs)" % (part, json.dumps(ctx.results.figures.get(part, {})), elapsed), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(ctx.root, ignore_errors=True)
    total = time.monotonic() - started
    summary = {"seed": ctx.seed, "seconds": round(total), "failures": len(ctx.results.failures),
               "parts": ctx.results.figures}
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(summary, handle, indent=2)
    print("total %.0fs, %d failure(s)" % (total, len(ctx.results.failures)))
    return 1 if ctx.results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
