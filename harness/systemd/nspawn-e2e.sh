#!/bin/bash
# End-to-end under a real systemd: boots systemd as PID 1 in systemd-nspawn (the host's own root, read-only, with a
# tmpfs overlay: no download), installs the portero .deb with dpkg, starts portero.socket, and checks what an admin
# would: activation on the first connection, register → verify → login over the Unix socket and TCP,
# `systemctl is-active`, `systemctl reload`, `journalctl -u portero PORTERO_EVENT=login.succeeded`, and
# `systemctl stop` ending with exit status 0.
#
# usage: harness/systemd/nspawn-e2e.sh --deb FILE.deb
#        harness/systemd/nspawn-e2e.sh --binary PATH   (packages PATH with packaging/build-deb.sh --fast first)
# Needs root, systemd-nspawn (systemd-container) and nsenter. Prints "nspawn e2e: passed" on success.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
DEB=; BIN=
case "${1:-}" in
    --deb) DEB="$(realpath "$2")" ;;
    --binary) BIN="$(realpath "$2")" ;;
    *) echo "usage: $0 --deb FILE | --binary PATH" >&2; exit 2 ;;
esac
W="$(mktemp -d /tmp/portero-nspawn.XXXXXX)"
MACHINE="portero-e2e-$$"
t0=$(date +%s%N)
step() { echo "[$(( ($(date +%s%N) - t0) / 1000000 )) ms] $*"; }
fail() { echo "nspawn e2e: FAILED: $*" >&2; exit 1; }

NSPID=; INIT=; ROOT=
cleanup() {
    if [ -n "$NSPID" ] && kill -0 "$NSPID" 2>/dev/null; then
        if [ -n "$INIT" ]; then nsenter -t "$INIT" -a systemctl poweroff >/dev/null 2>&1 || kill "$NSPID"; else kill "$NSPID"; fi
        for _ in $(seq 100); do kill -0 "$NSPID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$NSPID" 2>/dev/null || true
        wait "$NSPID" 2>/dev/null || true
    fi
    if [ -n "$ROOT" ]; then umount "$ROOT" 2>/dev/null || umount -l "$ROOT" 2>/dev/null || true; fi
    rm -rf "$W"
}
trap cleanup EXIT

if [ -n "$BIN" ]; then
    DEB="$("$REPO/packaging/build-deb.sh" --fast --binary "$BIN" --output "$W" | tail -n 1)"
    step "packaged $BIN"
fi
[ -f "$DEB" ] || fail "no package at $DEB"

# The host's root, read-only (it must be read-only before anything else touches it), as the container's image.
ROOT="$W/root"
mkdir -p "$ROOT"
mount --bind / "$ROOT"
mount -o remount,bind,ro "$ROOT"

# --register=no --keep-unit: no machined or host D-Bus needed. --volatile=overlay: writes go to a tmpfs.
setsid systemd-nspawn -q -D "$ROOT" --boot --register=no --keep-unit --machine="$MACHINE" \
    --volatile=overlay --private-network --bind-ro="$DEB":/opt/portero.deb \
    systemd.mask=postgresql.service systemd.mask=ssh.service \
    >"$W/nspawn.log" 2>&1 </dev/null &
NSPID=$!
for _ in $(seq 300); do
    kill -0 "$NSPID" 2>/dev/null || { cat "$W/nspawn.log" >&2; fail "systemd-nspawn exited"; }
    INIT="$(pgrep -P "$NSPID" -x systemd || true)"
    if [ -n "$INIT" ]; then
        case "$(nsenter -t "$INIT" -a systemctl is-system-running 2>/dev/null || true)" in running | degraded) break ;; esac
    fi
    sleep 0.1
done
[ -n "$INIT" ] || fail "the container's systemd did not come up"
IN() { nsenter -t "$INIT" -a "$@"; }
step "container booted (its PID 1 is host pid $INIT)"

IN dpkg -i /opt/portero.deb >"$W/dpkg.log" 2>&1 || { cat "$W/dpkg.log" >&2; fail "dpkg -i"; }
IN id portero >/dev/null || fail "the package did not create the portero user"
[ "$(IN stat -c %a /etc/portero/jwt-secret)" = 600 ] || fail "jwt-secret credential missing or not 0600"
[ "$(IN stat -c '%a %U:%G' /etc/portero/portero.yaml)" = "640 root:portero" ] \
    || fail "portero.yaml is $(IN stat -c '%a %U:%G' /etc/portero/portero.yaml), not 640 root:portero"
[ "$(IN systemctl is-enabled portero.service || true)" = disabled ] || fail "the package enabled portero.service"
[ "$(IN systemctl is-active portero.socket || true)" = inactive ] || fail "the package started portero.socket"
step "package installed; nothing enabled or started"

# An admin's edit of the conffile: codes go to a Maildir this test can read.
IN sh -c 'printf "mail:\n  transport: maildir\n" >> /etc/portero/portero.yaml'
IN systemctl start portero.socket
[ "$(IN systemctl is-active portero.socket)" = active ] || fail "portero.socket is not active"
[ "$(IN systemctl is-active portero.service || true)" != active ] || fail "service started before any connection"

SOCK=/run/portero/portero.sock
api() { # api METHOD PATH [JSON] [extra curl args…] — over the Unix socket; prints "<status> <body>"
    local method=$1 path=$2 body=${3:-}
    shift 3 || shift $#
    IN curl -sS --max-time 20 --unix-socket "$SOCK" -X "$method" -H 'Content-Type: application/json' \
        ${body:+--data "$body"} -w ' %{http_code}' "$@" "http://localhost/api/v1/auth$path"
}
status_of() { echo "${1##* }"; }
body_of() { echo "${1% *}"; }

EMAIL="e2e@example.org"
PASSWORD="nspawn-e2e-Correct-Horse"
R="$(api POST /register "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"name\":\"E2E\"}")"
[ "$(status_of "$R")" = 201 ] || fail "register over the socket answered $R"
step "first connection activated the service; register → 201"
[ "$(IN systemctl is-active portero.service)" = active ] || fail "portero.service is not active"
IN systemctl show portero.service -p StatusText -p MainPID -p NRestarts | sed 's/^/    /'
IN systemctl show portero.service -p StatusText --value | grep -q '^serving ' || fail "no STATUS= serving line"

CODE=
for _ in $(seq 100); do
    CODE="$(IN sh -c 'cat /var/lib/portero/mail/new/* 2>/dev/null' | sed -n 's/.*verification code is \([0-9]\{6\}\).*/\1/p' | head -n 1)"
    [ -n "$CODE" ] && break
    sleep 0.1
done
[ -n "$CODE" ] || fail "no verification mail in /var/lib/portero/mail/new"
R="$(api POST /verify-email "{\"email\":\"$EMAIL\",\"code\":\"$CODE\"}")"
[ "$(status_of "$R")" = 200 ] || fail "verify-email answered $(status_of "$R")"
R="$(api POST /login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}")"
[ "$(status_of "$R")" = 200 ] || fail "login over the socket answered $(status_of "$R")"
ACCESS="$(body_of "$R" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
R="$(api GET /profile "" -H "Authorization: Bearer $ACCESS")"
[ "$(status_of "$R")" = 200 ] || fail "profile answered $(status_of "$R")"
R="$(IN curl -sS --max-time 20 -H 'Content-Type: application/json' -w ' %{http_code}' \
    --data "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" http://127.0.0.1:5500/api/v1/auth/login)"
[ "$(status_of "$R")" = 200 ] || fail "login over TCP answered $(status_of "$R")"
step "verify → login (socket and TCP) → profile"

PID_BEFORE="$(IN systemctl show portero.service -p MainPID --value)"
IN systemctl reload portero.service || fail "systemctl reload"
[ "$(IN systemctl is-active portero.service)" = active ] || fail "not active after reload"
[ "$(IN systemctl show portero.service -p MainPID --value)" = "$PID_BEFORE" ] || fail "reload restarted the process"
R="$(api GET /profile "" -H "Authorization: Bearer $ACCESS")"
[ "$(status_of "$R")" = 200 ] || fail "profile after reload answered $(status_of "$R")"
step "systemctl reload: same process, still serving"

IN journalctl --sync
IN journalctl -u portero PORTERO_EVENT=login.succeeded -o json --no-pager >"$W/logins.json"
python3 - "$W/logins.json" <<'PY' || fail "journal check"
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert len(entries) == 2, f"expected 2 login.succeeded entries, found {len(entries)}"
for entry in entries:
    assert entry["SYSLOG_IDENTIFIER"] == "portero" and entry["_SYSTEMD_UNIT"] == "portero.service", entry
    assert entry.get("PORTERO_USER_ID") and entry.get("PORTERO_EMAIL_HASH") and entry.get("REQUEST_ID"), entry
    assert "e2e@example.org" not in json.dumps(entry), "plain email in the journal"
print("    journal:", entries[-1]["MESSAGE"], "user", entries[-1]["PORTERO_USER_ID"])
PY
IN journalctl -u portero --no-pager -o json >"$W/all.json"
if grep -q -e "$PASSWORD" -e "$ACCESS" -e "\"$CODE\"" "$W/all.json"; then fail "a secret reached the journal"; fi
step "journalctl -u portero PORTERO_EVENT=login.succeeded: 2 entries with user, email hash, request id"

IN systemctl stop portero.service 2>/dev/null
[ "$(IN systemctl show portero.service -p Result --value)" = success ] || fail "stop result is not success"
[ "$(IN systemctl show portero.service -p ExecMainStatus --value)" = 0 ] || fail "portero exited non-zero on stop"
IN journalctl --sync
IN journalctl -u portero --no-pager -o cat | grep -q 'shutting down' || fail "no shutdown line in the journal"
step "systemctl stop: exit status 0"

# The socket stays; the next connection starts the daemon again with the same store.
R="$(api POST /login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}")"
[ "$(status_of "$R")" = 200 ] || fail "login after re-activation answered $(status_of "$R")"
step "re-activated by the next connection; the user is still there"

# kill -9: Restart=on-failure brings it back, and the acknowledged user survives.
PID="$(IN systemctl show portero.service -p MainPID --value)"
IN kill -9 "$PID"
for _ in $(seq 100); do
    NEW="$(IN systemctl show portero.service -p MainPID --value)"
    [ "$NEW" != 0 ] && [ "$NEW" != "$PID" ] && [ "$(IN systemctl is-active portero.service || true)" = active ] && break
    sleep 0.1
done
[ "$(IN systemctl show portero.service -p NRestarts --value)" = 1 ] || fail "no restart after kill -9"
R="$(api POST /login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}")"
[ "$(status_of "$R")" = 200 ] || fail "login after kill -9 and restart answered $(status_of "$R")"
step "kill -9: restarted by systemd (NRestarts=1), user still there"

# Without the socket unit the service binds its own listeners (the socket unit left its socket file behind).
IN systemctl stop portero.service portero.socket 2>/dev/null
IN systemctl start portero.service
[ "$(IN systemctl is-active portero.service)" = active ] || fail "service alone is not active"
R="$(api POST /login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}")"
[ "$(status_of "$R")" = 200 ] || fail "login to the service started alone answered $(status_of "$R")"
[ "$(IN stat -c '%a %U' "$SOCK")" = "660 portero" ] || fail "socket bound by portero is not 0660 portero"
IN systemctl stop portero.service
[ "$(IN systemctl show portero.service -p ExecMainStatus --value)" = 0 ] || fail "exit status after stop"
step "service without the socket unit binds its own listeners; stop → 0"

IN systemd-analyze security portero.service --no-pager 2>/dev/null | tail -n 1 | sed 's/^/    /' || true
echo "nspawn e2e: passed"
