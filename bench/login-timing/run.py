#!/usr/bin/env python3
"""Login timing: unknown email vs wrong password (docs/decisions.md: "same body, same timing").

Starts the built `portero serve` on a free loopback port in a temporary directory (Maildir transport, rate limits
and lockout off so every attempt checks a password), registers and verifies one user, then sends N logins of each
kind, interleaved, one at a time on fresh connections, and prints the medians and their difference in ms.

    python3 bench/login-timing/run.py [--binary .build/release/portero] [--samples 200] [--budget-ms 5]

Exits 1 when the medians differ by more than --budget-ms. Uses only the Python standard library.
"""

import argparse
import glob
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PASSWORD = "timing bench password 2026"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    payload = json.dumps(body)
    start = time.perf_counter()
    connection.request("POST", "/api/v1/auth" + path, payload, {"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - start
    connection.close()
    return response.status, data, elapsed


def wait_ready(port, process, deadline):
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit("portero exited early")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit("portero not ready")


def wait_code(maildir, deadline):
    while time.time() < deadline:
        for name in glob.glob(os.path.join(maildir, "new", "*")):
            with open(name, encoding="utf-8") as handle:
                text = handle.read()
            match = re.search(r"(?<!\d)\d{6}(?!\d)", text.split("\n\n", 1)[-1])
            if match:
                return match.group(0)
        time.sleep(0.05)
    sys.exit("no verification mail")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/portero")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--budget-ms", type=float, default=5.0)
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="portero-timing-")
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTERO_")}
    command = [
        args.binary, "serve", "--data-dir", os.path.join(directory, "data"), "--listen", f"127.0.0.1:{port}",
        "--socket", "", "--mail-transport", "maildir", "--log-level", "error",
        "--rate-login", "0", "--rate-register", "0", "--rate-verify", "0", "--lockout-max-failures", "0",
    ]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process, time.time() + 30)
        email = "timing@example.com"
        status, _, _ = post(port, "/register", {"email": email, "password": PASSWORD})
        assert status == 201, status
        code = wait_code(os.path.join(directory, "data", "mail"), time.time() + 20)
        status, _, _ = post(port, "/verify-email", {"email": email, "code": code})
        assert status == 200, status

        # Warm-up: both paths, so neither pays for first use.
        for _ in range(10):
            post(port, "/login", {"email": email, "password": "wrong password x"})
            post(port, "/login", {"email": "nobody@example.com", "password": "wrong password x"})

        unknown, wrong = [], []
        bodies = set()
        for index in range(args.samples * 2):
            # Interleaved, so drift affects both alike.
            kind = "unknown" if index % 2 == 0 else "wrong"
            target = f"nobody{index}@example.com" if kind == "unknown" else email
            status, data, elapsed = post(port, "/login", {"email": target, "password": "wrong password x"})
            assert status == 401, (status, data)
            bodies.add(data)
            (unknown if kind == "unknown" else wrong).append(elapsed * 1000)

        median_unknown = statistics.median(unknown)
        median_wrong = statistics.median(wrong)
        difference = abs(median_unknown - median_wrong)
        print(f"samples: {len(unknown)} unknown email, {len(wrong)} wrong password")
        print(f"median unknown email:  {median_unknown:.2f} ms (p10 {statistics.quantiles(unknown, n=10)[0]:.2f}, "
              f"p90 {statistics.quantiles(unknown, n=10)[-1]:.2f})")
        print(f"median wrong password: {median_wrong:.2f} ms (p10 {statistics.quantiles(wrong, n=10)[0]:.2f}, "
              f"p90 {statistics.quantiles(wrong, n=10)[-1]:.2f})")
        print(f"difference of medians: {difference:.2f} ms (budget {args.budget_ms} ms)")
        print(f"distinct 401 bodies: {len(bodies)}")
        return 0 if difference <= args.budget_ms and len(bodies) == 1 else 1
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
