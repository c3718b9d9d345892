#!/usr/bin/env python3
"""Profiles a running Portero under load with `perf record -g` (cpu-clock: this VM has no hardware counters).

    python3 bench/http/profile.py [--binary .build-release/release/portero] [--route profile|refresh|login]
                                  [--seconds 8] [--clients 32] [--out perf.data]

Starts the daemon on a fresh data directory (the same configuration as run.py), makes a verified user, puts the load
on (`profile`: GET /profile with wrk over TCP; `refresh`: POST /refresh with loadgen, each client following its own
refresh-token chain; `login`: POST /login with wrk, 8 clients whatever --clients says, as run.py's flood), records
the daemon's threads meanwhile and prints the load's figures and perf's top entries by inclusive time (read the whole
call graph with `perf report -i OUT --children`; `--sort comm,dso` splits the hash threads from the rest). Shares of
the samples stay comparable on a loaded machine where absolute rates do not (under `perf -g` a login flood runs at a
third of its rate).
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(run.ROOT, ".build-release", "release", "portero"))
    parser.add_argument("--route", choices=["profile", "refresh", "login"], default="profile")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--out", default="perf.data")
    parser.add_argument("--tools", default=os.path.join(run.ROOT, ".build-bench", "tools"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="portero-profile-")
    daemon = run.Daemon(args.binary, work).start()
    try:
        access = daemon.create_user()["access_token"]
        if args.route == "refresh":
            tools = run.build_tools(args.tools)
            chains = os.path.join(work, "refresh-tokens.txt")
            with open(chains, "w") as handle:
                for _ in range(args.clients):
                    handle.write(daemon.login()["refresh_token"] + "\n")

            def load(seconds):
                return run.loadgen(tools, f"127.0.0.1:{daemon.port}", seconds, args.clients, "POST",
                                   run.AUTH + "/refresh", {"Content-Type": "application/json"}, refresh_tokens=chains)
        elif args.route == "login":
            login_body = run.json.dumps({"email": run.EMAIL, "password": run.PASSWORD})

            def load(seconds):
                return run.wrk(daemon.url(run.AUTH + "/login"), seconds, 8, "POST",
                               {"Content-Type": "application/json"}, login_body)
            load(2)  # warm-up
        else:
            def load(seconds):
                return run.wrk(daemon.url(run.AUTH + "/profile"), seconds, args.clients,
                               headers={"Authorization": f"Bearer {access}"})
            load(2)  # warm-up
        perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-p",
                                 str(daemon.process.pid), "-o", args.out, "--", "sleep", str(args.seconds)],
                                stderr=subprocess.DEVNULL)
        result = load(args.seconds)
        perf.wait()
        print(f"{args.route}: {result['rps']:,.0f} req/s, p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms, "
              f"non-2xx/errors {result.get('non2xx', 0) + result.get('errors', 0)}")
        report = subprocess.run(["perf", "report", "-i", args.out, "--children", "--sort", "symbol", "--stdio",
                                 "-g", "none"], capture_output=True, text=True).stdout
        lines = [line for line in report.splitlines() if "%" in line and not line.startswith("#")]
        print("\n".join(line[:160] for line in lines[:40]))
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
