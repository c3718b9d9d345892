"""Schemathesis hooks for harness/fuzz/run.py (loaded through SCHEMATHESIS_HOOKS; never imported by hand).

- Routes tagged `bearer` in docs/openapi.yaml get a real access token of the fixture user that run.py
  registered and verified, so the fuzzer reaches their bodies instead of stopping at 401. A token the fuzzer
  revoked (/logout, /logout-all) answers 401, and schemathesis then logs in again (`retry_on` 401).
- Every answer is counted by operation and status into PORTERO_FUZZ_STATS (JSON), which run.py reads to report
  the requests sent and to fail on any 5xx, whatever checks schemathesis ran.
"""

import atexit
import collections
import json
import os
import threading
import urllib.request

import schemathesis

BASE = os.environ["PORTERO_FUZZ_URL"]
EMAIL = os.environ["PORTERO_FUZZ_EMAIL"]
PASSWORD = os.environ["PORTERO_FUZZ_PASSWORD"]
STATS_PATH = os.environ["PORTERO_FUZZ_STATS"]

_lock = threading.Lock()
_by_operation: collections.Counter = collections.Counter()
_logins = 0


def _write_stats() -> None:
    with _lock:
        by_operation = dict(_by_operation)
        logins = _logins
    statuses: collections.Counter = collections.Counter()
    for key, count in by_operation.items():
        statuses[key.rsplit(" ", 1)[1]] += count
    temporary = STATS_PATH + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(
            {
                "requests": sum(by_operation.values()),
                "statuses": dict(sorted(statuses.items())),
                "by_operation": dict(sorted(by_operation.items())),
                "fixture_logins": logins,
            },
            handle,
            indent=1,
        )
    os.replace(temporary, STATS_PATH)


atexit.register(_write_stats)


@schemathesis.hook
def after_call(context, case, response):
    key = f"{case.operation.method.upper()} {case.operation.path} {response.status_code}"
    with _lock:
        _by_operation[key] += 1
        total = sum(_by_operation.values())
    if total % 250 == 0:
        _write_stats()


@schemathesis.auth().apply_to(tag="bearer")
class AccessToken:
    """An access token of the fixture user, fetched by logging in; fetched again after a 401."""

    def get(self, case, context):
        global _logins
        request = urllib.request.Request(
            BASE + "/api/v1/auth/login",
            data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            token = json.load(answer)["access_token"]
        with _lock:
            _logins += 1
        return token

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
