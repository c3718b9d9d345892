#!/usr/bin/env python3
"""Fuzzes a real `portero serve` with schemathesis from docs/openapi.yaml, then checks the daemon survived.

    harness/fuzz/run.py [--binary .build/debug/portero] [--examples 10] [--seed 4] [--max-time SECONDS]

Starts the daemon on a free port with its own data directory, rate limits and lockout off (the fuzzer sends
thousands of requests from one address), the Maildir transport, and JSON logs. Registers and verifies a fixture
user whose access tokens the hooks (portero_hooks.py) put on the Bearer routes. Then runs `st run` with every
phase (examples, coverage, fuzzing, stateful) and these checks:

  not_a_server_error          no 5xx, ever
  status_code_conformance     every status is one docs/openapi.yaml lists for that route
  content_type_conformance    the documented Content-Type
  response_headers_conformance  X-Request-Id always, WWW-Authenticate on 401
  response_schema_conformance the documented body (error shape, user object, token response)
  negative_data_rejection     input the schema forbids is refused (4xx)
  unsupported_method          a method a path does not have is 405
  ignored_auth                a Bearer route without a valid token is 401

The admin API (tag `admin`) and `/metrics` (tag `unix-socket`) are left out: over TCP they do not exist.

Afterwards: no 5xx in the counted answers, the daemon's PID is alive, /healthz is 200, no log line at error
level or above, and SIGTERM ends it with status 0. Exit status 0 only if all of that holds.

`--examples` bounds the run (cases per operation and phase; `make test` uses a small number). `--max-time`
instead keeps fuzzing until that many seconds are spent (the long run of the README).
"""

import argparse
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "ignored_auth",
]
FIXTURE_EMAIL = "fuzz-fixture@example.com"
FIXTURE_PASSWORD = "fixture passphrase 2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base: str, method: str, path: str, body=None, timeout: float = 10):
    """One request; returns (status, parsed JSON or None). Never raises for an HTTP status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise SystemExit(f"fuzz: timed out waiting for {what}")


def healthy(base: str) -> bool:
    try:
        return call(base, "GET", "/healthz", timeout=2)[0] == 200
    except (OSError, http.client.HTTPException):
        return False


def mailed_code(maildir: str, skip: int) -> str:
    """The newest 6-digit code in the Maildir, once more than `skip` messages have arrived."""
    new = os.path.join(maildir, "new")
    wait_until(lambda: os.path.isdir(new) and len(os.listdir(new)) > skip, 30, "the verification mail")
    newest = max((os.path.join(new, name) for name in os.listdir(new)), key=os.path.getmtime)
    with open(newest, encoding="utf-8", errors="replace") as handle:
        match = re.search(r"\b(\d{6})\b", handle.read())
    if not match:
        raise SystemExit("fuzz: no code in the verification mail")
    return match.group(1)


def daemon_environment() -> dict:
    """The caller's environment without anything that would configure or notify-wire the daemon."""
    dropped = ("PORTERO_", "NOTIFY_SOCKET", "LISTEN_", "JOURNAL_STREAM", "WATCHDOG_", "INVOCATION_ID")
    return {key: value for key, value in os.environ.items() if not key.startswith(dropped)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/portero"))
    parser.add_argument("--schema", default=os.path.join(ROOT, "docs/openapi.yaml"))
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", "10")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "20261123")))
    parser.add_argument("--max-time", type=int, default=int(os.environ.get("FUZZ_MAX_TIME", "0")))
    # One worker: schemathesis' threads build Python ASTs concurrently, and CPython 3.11's AST constructor is not
    # safe for that ("SystemError: AST constructor recursion depth mismatch", a crash of the fuzzer itself, seen
    # in two of five runs on Python 3.11.7 with two workers; none in the daemon).
    parser.add_argument("--workers", default=os.environ.get("FUZZ_WORKERS", "1"))
    parser.add_argument("--report", default=os.environ.get("FUZZ_REPORT", ""),
                        help="also write the run's summary (JSON) to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    options = parser.parse_args()

    if importlib.util.find_spec("schemathesis") is None:
        raise SystemExit("fuzz: schemathesis is not installed (make test-deps, or python3 -m pip install schemathesis)")
    if not os.access(options.binary, os.X_OK):
        raise SystemExit(f"fuzz: no daemon binary at {options.binary} (swift build first)")

    directory = tempfile.mkdtemp(prefix="portero-fuzz-")
    data = os.path.join(directory, "data")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(directory, "daemon.log")
    stats_path = os.path.join(directory, "stats.json")
    arguments = [
        options.binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
        "--socket", os.path.join(directory, "portero.sock"), "--mail-transport", "maildir",
        "--log-format", "json", "--lockout-max-failures", "0", "--cookie-enabled", "true",
        "--rate-login", "0", "--rate-register", "0", "--rate-verify", "0", "--rate-resend", "0", "--rate-forgot", "0",
    ]
    started = time.monotonic()
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=daemon_environment())
    problems = []
    try:
        wait_until(lambda: healthy(base) or daemon.poll() is not None, 60, "the daemon to answer /healthz")
        if daemon.poll() is not None:
            raise SystemExit(f"fuzz: the daemon exited with {daemon.returncode}; see {log_path}")

        status, _ = call(base, "POST", "/api/v1/auth/register",
                         {"email": FIXTURE_EMAIL, "password": FIXTURE_PASSWORD, "name": "Fuzz Fixture"})
        if status != 201:
            raise SystemExit(f"fuzz: registering the fixture user answered {status}")
        code = mailed_code(os.path.join(data, "mail"), 0)
        status, _ = call(base, "POST", "/api/v1/auth/verify-email", {"email": FIXTURE_EMAIL, "code": code})
        if status != 200:
            raise SystemExit(f"fuzz: verifying the fixture user answered {status}")

        # schemathesis's own `st` entry point, run by this interpreter (its script may not be on PATH).
        command = [
            sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
            "run", options.schema, "--url", base, "--checks", ",".join(CHECKS),
            "--seed", str(options.seed), "--workers", str(options.workers), "--no-color",
            "--request-timeout", "30", "--suppress-health-check", "all", "--generation-database", "none",
            "--report", "junit", "--report-junit-path", os.path.join(directory, "junit.xml"),
            # The admin API does not exist over TCP (404 for every path and method, so no 405 either); its routes
            # are tested over the Unix socket (AdminCLITests) and its TCP 404 by RouterTests and AdminCLITests.
            # Nor does /metrics without metrics.tcp (MetricsRouterTests, MetricsTests).
            "--exclude-tag", "admin", "--exclude-tag", "unix-socket",
        ]
        if options.max_time > 0:
            command += ["--max-time", str(options.max_time)]
        else:
            command += ["--max-examples", str(options.examples)]
        environment = dict(os.environ)
        environment.update({
            "SCHEMATHESIS_HOOKS": "portero_hooks",
            "PYTHONPATH": os.path.dirname(os.path.abspath(__file__)) + os.pathsep + environment.get("PYTHONPATH", ""),
            "PORTERO_FUZZ_URL": base,
            "PORTERO_FUZZ_EMAIL": FIXTURE_EMAIL,
            "PORTERO_FUZZ_PASSWORD": FIXTURE_PASSWORD,
            "PORTERO_FUZZ_STATS": stats_path,
        })
        print("fuzz:", " ".join(command), flush=True)
        fuzz_started = time.monotonic()
        result = subprocess.run(command, env=environment, cwd=directory)
        fuzz_seconds = time.monotonic() - fuzz_started
        if result.returncode != 0:
            problems.append(f"schemathesis reported failures (exit {result.returncode})")

        try:
            with open(stats_path) as handle:
                stats = json.load(handle)
        except (OSError, ValueError):
            stats = {"requests": 0, "statuses": {}, "by_operation": {}}
            problems.append("no request statistics were written")
        server_errors = {status: count for status, count in stats["statuses"].items() if status.startswith("5")}
        if server_errors:
            problems.append(f"5xx answers: {server_errors}")
        if stats["requests"] == 0:
            problems.append("no request reached the daemon")

        alive = daemon.poll() is None
        if not alive:
            problems.append(f"the daemon died during the run (status {daemon.returncode})")
        elif not healthy(base):
            problems.append("the daemon no longer answers /healthz")

        with open(log_path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
        severe = []
        for line in lines:
            try:
                level = str(json.loads(line).get("level", "")).lower()
            except ValueError:
                severe.append(line)
                continue
            if level in ("error", "critical", "crit", "alert", "emergency"):
                severe.append(line)
        if severe:
            problems.append(f"{len(severe)} log line(s) at error level or above (or not JSON), first: {severe[0][:300]}")

        if alive:
            daemon.send_signal(signal.SIGTERM)
            try:
                code = daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                code = None
            if code != 0:
                problems.append(f"SIGTERM did not end the daemon with status 0 (got {code})")

        summary = {
            "date": time.strftime("%Y-%m-%d"),
            "command": " ".join(command),
            "seconds": round(fuzz_seconds, 1),
            "requests": stats["requests"],
            "statuses": stats["statuses"],
            "server_errors": sum(server_errors.values()),
            "daemon_alive_after_run": alive,
            "problems": problems,
        }
        print("fuzz: summary", json.dumps(summary, indent=1), flush=True)
        if options.report:
            with open(options.report, "w") as handle:
                json.dump(dict(summary, by_operation=stats["by_operation"]), handle, indent=1)
        print(f"fuzz: {stats['requests']} requests in {fuzz_seconds:.0f}s "
              f"({time.monotonic() - started:.0f}s in all), {sum(server_errors.values())} 5xx, "
              f"daemon {'alive' if alive else 'DEAD'}", flush=True)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if problems or options.keep:
            print(f"fuzz: logs and data kept in {directory}", flush=True)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    for problem in problems:
        print("fuzz: FAILED:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
