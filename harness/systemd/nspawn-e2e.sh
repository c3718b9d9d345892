#!/bin/bash
# End-to-end under a real systemd: boots systemd as PID 1 in systemd-nspawn (the host's own root, read-only, with a
# tmpfs overlay: no download), and lives with the portero .deb as a Debian admin would:
#   1. a trial run first: `portero serve` as root (what `make run` does), a user registered and verified;
#   2. `dpkg -i`: nothing enabled or started; the first start adopts the trial's root-owned data (the trial user
#      logs in) and writes no warning or error to the journal; socket activation, register → verify → login over
#      the Unix socket and TCP, `systemctl reload`, `journalctl -u portero PORTERO_EVENT=login.succeeded`,
#      `systemctl stop` → exit 0, kill -9 and Restart=, the service without its socket unit;
#   3. an upgrade to a second package of a higher version while it serves: one restart, users, sessions and
#      signing keys kept, a token issued before still valid after;
#   4. a data directory portero cannot use: it stops at once, one line saying what to run, no restart loop;
#   5. `apt remove` keeps /etc/portero and /var/lib/portero, `apt purge` removes them, the user stays;
#   6. `apt install ./portero_*.deb`: apt resolves its Depends (for an empty machine, simulated; here, for real);
#   7. with Debian's postfix installed, mail on the embedded default arrives (SMTP to the local postfix);
#   8. a member of admin_group runs `portero users list` against the service; another user is refused.
#
# usage: harness/systemd/nspawn-e2e.sh --deb FILE.deb [--upgrade-deb FILE.deb]
#        harness/systemd/nspawn-e2e.sh --binary PATH   (packages PATH twice with packaging/build-deb.sh --fast)
# --upgrade-deb is the second package (a higher version); with --deb alone the same content is repackaged with
# the version "<version>+e2e1". Needs root, systemd-nspawn (systemd-container), nsenter, dpkg-dev, lintian and the
# host's apt package lists (`apt-get update` once). Prints "nspawn e2e: passed".
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
DEB=; DEB2=; BIN=
while [ $# -gt 0 ]; do
    case "$1" in
        --deb) DEB="$(realpath "$2")"; shift 2 ;;
        --upgrade-deb) DEB2="$(realpath "$2")"; shift 2 ;;
        --binary) BIN="$(realpath "$2")"; shift 2 ;;
        *) echo "usage: $0 --deb FILE [--upgrade-deb FILE] | --binary PATH" >&2; exit 2 ;;
    esac
done
[ -n "$DEB$BIN" ] || { echo "usage: $0 --deb FILE [--upgrade-deb FILE] | --binary PATH" >&2; exit 2; }
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
    VERSION="$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' "$REPO/Sources/portero/Portero.swift")"
    mkdir "$W/man"
    "$REPO/packaging/man/generate.sh" --binary "$BIN" --output "$W/man" --version "$VERSION" >/dev/null
    DEB="$("$REPO/packaging/build-deb.sh" --fast --binary "$BIN" --man "$W/man" --output "$W" | tail -n 1)"
    DEB2="$("$REPO/packaging/build-deb.sh" --fast --binary "$BIN" --man "$W/man" --output "$W/upgrade" \
        "$VERSION+e2e1" | tail -n 1)"
    step "packaged $BIN as $(basename "$DEB") and $(basename "$DEB2")"
fi
[ -f "$DEB" ] || fail "no package at $DEB"
VERSION1="$(dpkg-deb -f "$DEB" Version)"
if [ -z "$DEB2" ]; then
    # The same content with a higher version: what an upgrade built from the same tree looks like.
    mkdir "$W/repack"
    dpkg-deb -R "$DEB" "$W/repack/root"
    sed -i "s/^Version: .*/Version: $VERSION1+e2e1/" "$W/repack/root/DEBIAN/control"
    DEB2="$W/repack/portero_$VERSION1+e2e1.deb"
    dpkg-deb --root-owner-group -Zgzip -z1 --build "$W/repack/root" "$DEB2" >/dev/null
fi
VERSION2="$(dpkg-deb -f "$DEB2" Version)"
dpkg --compare-versions "$VERSION2" gt "$VERSION1" || fail "upgrade package $VERSION2 is not newer than $VERSION1"
for dependency in libsystemd0 libargon2-1 libssl3 systemd; do
    dpkg-deb -f "$DEB" Depends | grep -q "\b$dependency\b" || fail "Depends: does not name $dependency"
done
# lintian: no errors. A package of the debug build (--binary) also carries the toolchain's RUNPATH, which the
# release build (--static-swift-stdlib) does not: that one tag is not counted for it.
SUPPRESS=()
[ -z "$BIN" ] || SUPPRESS=(--suppress-tags custom-library-search-path)
lintian --fail-on error --allow-root "${SUPPRESS[@]}" "$DEB" >"$W/lintian.log" 2>&1 \
    || { cat "$W/lintian.log" >&2; fail "lintian reports errors"; }
sed 's/^/    lintian: /' "$W/lintian.log"
step "lintian: no errors"
# The trial binary is the packaged one, as `make run` would build it.
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$W" ./usr/bin/portero
mv "$W/usr/bin/portero" "$W/portero-trial"
# The archive's package lists, for apt's resolution in step 6 (the container sees the host's as they are at boot).
compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || apt-get update -qq || fail "no apt package lists and apt-get update failed"

# The host's root, read-only (it must be read-only before anything else touches it), as the container's image.
ROOT="$W/root"
mkdir -p "$ROOT"
mount --bind / "$ROOT"
mount -o remount,bind,ro "$ROOT"

# --register=no --keep-unit: no machined or host D-Bus needed. --volatile=overlay: writes go to a tmpfs.
setsid systemd-nspawn -q -D "$ROOT" --boot --register=no --keep-unit --machine="$MACHINE" \
    --volatile=overlay --private-network --bind-ro="$DEB":/opt/portero.deb --bind-ro="$DEB2":/opt/portero-next.deb \
    --bind-ro="$W/portero-trial":/opt/portero-trial \
    systemd.mask=postgresql.service systemd.mask=ssh.service systemd.mask=apt-daily.service \
    systemd.mask=apt-daily-upgrade.service systemd.mask=man-db.service \
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
# A container image's policy-rc.d (exit 101: "start no services") makes the maintainer scripts' deb-systemd-invoke
# skip every restart and stop, as Debian intends; a machine the package is meant for has none.
IN rm -f /usr/sbin/policy-rc.d

SOCK=/run/portero/portero.sock
api() { # api METHOD PATH [JSON] [extra curl args…] — over the Unix socket; prints "<body> <status>"
    local method=$1 path=$2 body=${3:-}
    shift 3 || shift $#
    IN curl -sS --max-time 20 --unix-socket "$SOCK" -X "$method" -H 'Content-Type: application/json' \
        ${body:+--data "$body"} -w ' %{http_code}' "$@" "http://localhost$path"
}
auth() { local method=$1 path=$2; shift 2; api "$method" "/api/v1/auth$path" "$@"; }
status_of() { echo "${1##* }"; }
body_of() { echo "${1% *}"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
login() { # login EMAIL PASSWORD → the answer of POST /login over the socket
    auth POST /login "{\"email\":\"$1\",\"password\":\"$2\"}"
}
verification_code() { # the newest 6-digit code mailed to the Maildir, after $1 mails were there
    local code=
    for _ in $(seq 100); do
        code="$(IN sh -c "ls -tr /var/lib/portero/mail/new/ 2>/dev/null | tail -n +$(( $1 + 1 )) | head -n 1 \
            | xargs -r -I{} cat /var/lib/portero/mail/new/{}" | sed -n 's/.*code is \([0-9]\{6\}\).*/\1/p' | head -n 1)"
        [ -n "$code" ] && break
        sleep 0.1
    done
    echo "$code"
}
mails() { IN sh -c 'ls /var/lib/portero/mail/new 2>/dev/null | wc -l'; }
register_and_verify() { # register_and_verify EMAIL PASSWORD
    local before r code
    before="$(mails)"
    r="$(auth POST /register "{\"email\":\"$1\",\"password\":\"$2\",\"name\":\"E2E\"}")"
    [ "$(status_of "$r")" = 201 ] || fail "register $1 answered $r"
    code="$(verification_code "$before")"
    [ -n "$code" ] || fail "no verification mail for $1 in /var/lib/portero/mail/new"
    r="$(auth POST /verify-email "{\"email\":\"$1\",\"code\":\"$code\"}")"
    [ "$(status_of "$r")" = 200 ] || fail "verify-email $1 answered $(status_of "$r")"
}
# Lines the daemon itself wrote at PRIORITY<=4 (warning or worse) in one run of the unit (an invocation id).
loud_lines() {
    IN journalctl --sync
    IN journalctl --no-pager -o cat "_SYSTEMD_INVOCATION_ID=$1" -p warning
}
invocation() { IN systemctl show portero.service -p InvocationID --value; }
startups() { IN journalctl --sync; IN journalctl -u portero PORTERO_EVENT=startup -o cat --no-pager | wc -l; }

# 1. The trial run: `portero serve` as root on its defaults, before the package (README's quick start).
TRIAL_EMAIL="trial@example.org"
TRIAL_PASSWORD="nspawn-trial-Battery-Staple"
TRIAL_PID="$(IN sh -c 'PORTERO_MAIL_TRANSPORT=maildir setsid /opt/portero-trial serve \
    >/var/tmp/portero-trial.log 2>&1 </dev/null & echo $!')"
for _ in $(seq 200); do
    [ "$(status_of "$(api GET /readyz "" 2>/dev/null || echo ' 000')")" = 200 ] && break
    IN kill -0 "$TRIAL_PID" 2>/dev/null || { IN cat /var/tmp/portero-trial.log >&2; fail "the trial run exited"; }
    sleep 0.1
done
register_and_verify "$TRIAL_EMAIL" "$TRIAL_PASSWORD"
[ "$(status_of "$(login "$TRIAL_EMAIL" "$TRIAL_PASSWORD")")" = 200 ] || fail "login during the trial run"
IN kill -TERM "$TRIAL_PID"
for _ in $(seq 200); do IN kill -0 "$TRIAL_PID" 2>/dev/null || break; sleep 0.1; done
! IN kill -0 "$TRIAL_PID" 2>/dev/null || fail "the trial run did not stop on SIGTERM"
[ "$(IN stat -c %U /var/lib/portero/LOCK)" = root ] || fail "the trial run did not leave root-owned data"
step "trial run as root: user registered and verified, data in /var/lib/portero owned by root"

# 2. The package.
IN dpkg -i /opt/portero.deb >"$W/dpkg.log" 2>&1 || { cat "$W/dpkg.log" >&2; fail "dpkg -i"; }
IN id portero >/dev/null || fail "the package did not create the portero user"
[ "$(IN stat -c %a /etc/portero/jwt-secret)" = 600 ] || fail "jwt-secret credential missing or not 0600"
[ "$(IN stat -c '%a %U:%G' /etc/portero/portero.yaml)" = "640 root:portero" ] \
    || fail "portero.yaml is $(IN stat -c '%a %U:%G' /etc/portero/portero.yaml), not 640 root:portero"
[ "$(IN systemctl is-enabled portero.service || true)" = disabled ] || fail "the package enabled portero.service"
[ "$(IN systemctl is-active portero.socket || true)" = inactive ] || fail "the package started portero.socket"
for page in portero.8 portero.yaml.5; do
    IN sh -c "MANWIDTH=80 man ${page##*.} ${page%.*} 2>/dev/null" | grep -q . || fail "man page $page not installed"
done
IN sh -c 'MANWIDTH=80 man 8 portero' | grep -q 'rotate  *Make a new signing key' || fail "portero(8) lacks keys rotate"
# Shell completions where bash-completion, zsh and fish look, naming the commands (import, users reset-password).
for completion in /usr/share/bash-completion/completions/portero /usr/share/zsh/vendor-completions/_portero \
    /usr/share/fish/vendor_completions.d/portero.fish; do
    IN grep -q 'reset-password' "$completion" || fail "completion $completion missing or without users reset-password"
    IN grep -q 'import' "$completion" || fail "completion $completion lacks import"
done
IN bash -c 'source /usr/share/bash-completion/completions/portero && COMP_LINE="portero users " COMP_POINT=14 \
    COMP_WORDS=(portero users "") COMP_CWORD=2 && _portero && printf "%s\n" "${COMPREPLY[@]}"' \
    | grep -x reset-password >/dev/null || fail "bash does not complete portero users to reset-password"
IN systemctl show portero.service -p Documentation --value | grep -q 'man:portero.yaml(5)' \
    || fail "Documentation= does not name portero.yaml(5)"
step "package $VERSION1 installed; nothing enabled or started; portero(8) and portero.yaml(5) installed"

# An admin's edit of the conffile: codes go to a Maildir this test can read.
IN sh -c 'printf "mail:\n  transport: maildir\n" >> /etc/portero/portero.yaml'
IN systemctl start portero.socket
[ "$(IN systemctl is-active portero.socket)" = active ] || fail "portero.socket is not active"
[ "$(IN systemctl is-active portero.service || true)" != active ] || fail "service started before any connection"

R="$(login "$TRIAL_EMAIL" "$TRIAL_PASSWORD")"
[ "$(status_of "$R")" = 200 ] || fail "the trial user could not log in under the package: $R"
[ "$(IN systemctl is-active portero.service)" = active ] || fail "portero.service is not active"
[ -z "$(IN find /var/lib/portero ! -user portero)" ] || fail "files in /var/lib/portero not adopted by portero"
IN systemctl show portero.service -p StatusText -p MainPID -p NRestarts | sed 's/^/    /'
IN systemctl show portero.service -p StatusText --value | grep -q '^serving ' || fail "no STATUS= serving line"
LOUD="$(loud_lines "$(invocation)")"
[ -z "$LOUD" ] || fail "a clean start wrote warning or error lines to the journal: $LOUD"
# libdispatch's "Failed to set thread priority" (logged at notice): never EPERM (the seccomp filter lets setpriority
# through); EACCES only where LimitNICE=-4 could not be applied because PID 1 lacks CAP_SYS_RESOURCE (some
# sandboxes and unprivileged containers), and then only for the one thread that asks for -4.
THREADS="$(IN journalctl -u portero --no-pager -o cat | grep "thread priority" || true)"
NICE_LIMIT="$(IN sh -c "sed -n 's/^Max nice priority *\([0-9]*\).*/\1/p' /proc/$(IN systemctl show portero.service -p MainPID --value)/limits")"
if [ "$NICE_LIMIT" = 24 ]; then
    [ -z "$THREADS" ] || fail "libdispatch thread-priority lines: $THREADS"
else
    [ -z "$(echo "$THREADS" | grep -v 'errno=13$' || true)" ] || fail "libdispatch thread-priority lines: $THREADS"
    [ "$(echo "$THREADS" | grep -c . || true)" -le 1 ] || fail "libdispatch thread-priority lines: $THREADS"
    echo "    note: RLIMIT_NICE stayed $NICE_LIMIT here (no CAP_SYS_RESOURCE for LimitNICE=-4): ${THREADS:-no line}"
fi
step "first connection activated the service; it adopted the trial's data (trial user logs in); no PRIORITY<=4 line"

EMAIL="e2e@example.org"
PASSWORD="nspawn-e2e-Correct-Horse"
register_and_verify "$EMAIL" "$PASSWORD"
R="$(login "$EMAIL" "$PASSWORD")"
[ "$(status_of "$R")" = 200 ] || fail "login over the socket answered $(status_of "$R")"
ACCESS="$(body_of "$R" | json '["access_token"]')"
R="$(auth GET /profile "" -H "Authorization: Bearer $ACCESS")"
[ "$(status_of "$R")" = 200 ] || fail "profile answered $(status_of "$R")"
R="$(IN curl -sS --max-time 20 -H 'Content-Type: application/json' -w ' %{http_code}' \
    --data "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" http://127.0.0.1:5500/api/v1/auth/login)"
[ "$(status_of "$R")" = 200 ] || fail "login over TCP answered $(status_of "$R")"
step "register → verify → login (socket and TCP) → profile"

PID_BEFORE="$(IN systemctl show portero.service -p MainPID --value)"
IN systemctl reload portero.service || fail "systemctl reload"
# systemd 252 ends the reload job when `kill -HUP` exits; the unit reads "reloading" from the daemon's RELOADING=1
# until its READY=1, which under a loaded machine may come a moment later.
STATE=""
for _ in $(seq 1 100); do
  STATE="$(IN systemctl is-active portero.service || true)"
  [ "$STATE" = reloading ] || break
  sleep 0.1
done
[ "$STATE" = active ] || fail "not active after reload ($STATE)"
[ "$(IN systemctl show portero.service -p MainPID --value)" = "$PID_BEFORE" ] || fail "reload restarted the process"
R="$(auth GET /profile "" -H "Authorization: Bearer $ACCESS")"
[ "$(status_of "$R")" = 200 ] || fail "profile after reload answered $(status_of "$R")"
step "systemctl reload: same process, still serving"

IN journalctl --sync
IN journalctl -u portero PORTERO_EVENT=login.succeeded -o json --no-pager >"$W/logins.json"
python3 - "$W/logins.json" <<'PY' || fail "journal check"
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert len(entries) == 3, f"expected 3 login.succeeded entries, found {len(entries)}"
for entry in entries:
    assert entry["SYSLOG_IDENTIFIER"] == "portero" and entry["_SYSTEMD_UNIT"] == "portero.service", entry
    assert entry.get("PORTERO_USER_ID") and entry.get("PORTERO_EMAIL_HASH") and entry.get("REQUEST_ID"), entry
    assert "e2e@example.org" not in json.dumps(entry), "plain email in the journal"
print("    journal:", entries[-1]["MESSAGE"], "user", entries[-1]["PORTERO_USER_ID"])
PY
IN journalctl -u portero --no-pager -o json >"$W/all.json"
if grep -q -e "$PASSWORD" -e "$ACCESS" "$W/all.json"; then fail "a secret reached the journal"; fi
step "journalctl -u portero PORTERO_EVENT=login.succeeded: 3 entries with user, email hash, request id"

IN systemctl stop portero.service 2>/dev/null
[ "$(IN systemctl show portero.service -p Result --value)" = success ] || fail "stop result is not success"
[ "$(IN systemctl show portero.service -p ExecMainStatus --value)" = 0 ] || fail "portero exited non-zero on stop"
IN journalctl --sync
IN journalctl -u portero --no-pager -o cat | grep -q 'shutting down' || fail "no shutdown line in the journal"
step "systemctl stop: exit status 0"

# The socket stays; the next connection starts the daemon again with the same store.
R="$(login "$EMAIL" "$PASSWORD")"
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
R="$(login "$EMAIL" "$PASSWORD")"
[ "$(status_of "$R")" = 200 ] || fail "login after kill -9 and restart answered $(status_of "$R")"
step "kill -9: restarted by systemd (NRestarts=1), user still there"

# Without the socket unit the service binds its own listeners (the socket unit left its socket file behind).
IN systemctl stop portero.service portero.socket 2>/dev/null
IN systemctl start portero.service
[ "$(IN systemctl is-active portero.service)" = active ] || fail "service alone is not active"
R="$(login "$EMAIL" "$PASSWORD")"
[ "$(status_of "$R")" = 200 ] || fail "login to the service started alone answered $(status_of "$R")"
[ "$(IN stat -c '%a %U' "$SOCK")" = "660 portero" ] || fail "socket bound by portero is not 0660 portero"
IN systemctl stop portero.service
[ "$(IN systemctl show portero.service -p ExecMainStatus --value)" = 0 ] || fail "exit status after stop"
step "service without the socket unit binds its own listeners; stop → 0"

# 3. Upgrade while serving. EdDSA first, so the signing key is a file of the data directory the upgrade must keep.
IN sh -c 'printf "jwt:\n  algorithm: EdDSA\n" >> /etc/portero/portero.yaml'
IN systemctl enable --now portero.socket 2>/dev/null
R="$(login "$EMAIL" "$PASSWORD")"
[ "$(status_of "$R")" = 200 ] || fail "login under EdDSA answered $(status_of "$R")"
ACCESS="$(body_of "$R" | json '["access_token"]')"
REFRESH="$(body_of "$R" | json '["refresh_token"]')"
JWKS="$(body_of "$(api GET /.well-known/jwks.json "")")"
echo "$JWKS" | json '["keys"][0]["kid"]' >/dev/null || fail "no EdDSA key in the JWKS: $JWKS"
SESSIONS="$(body_of "$(auth GET /sessions "" -H "Authorization: Bearer $ACCESS")" | json '["sessions"].__len__()')"
PID_BEFORE="$(IN systemctl show portero.service -p MainPID --value)"
STARTS_BEFORE="$(startups)"
IN dpkg -i /opt/portero-next.deb >"$W/dpkg-upgrade.log" 2>&1 || { cat "$W/dpkg-upgrade.log" >&2; fail "upgrade"; }
[ "$(IN dpkg-query -W -f '${Version}' portero)" = "$VERSION2" ] || fail "portero $VERSION2 is not installed"
[ "$(IN systemctl is-active portero.service)" = active ] || fail "not active after the upgrade"
PID_AFTER="$(IN systemctl show portero.service -p MainPID --value)"
[ "$PID_AFTER" != "$PID_BEFORE" ] || fail "the upgrade did not restart the daemon"
[ "$(startups)" = $((STARTS_BEFORE + 1)) ] || fail "the upgrade started the daemon $(( $(startups) - STARTS_BEFORE )) times"
[ "$(IN systemctl show portero.service -p NRestarts --value)" = 0 ] || fail "restarts after the upgrade"
R="$(auth GET /profile "" -H "Authorization: Bearer $ACCESS")"
[ "$(status_of "$R")" = 200 ] || fail "an access token issued before the upgrade answered $(status_of "$R") after it"
[ "$(body_of "$(api GET /.well-known/jwks.json "")")" = "$JWKS" ] || fail "the signing keys changed in the upgrade"
R="$(auth GET /sessions "" -H "Authorization: Bearer $ACCESS")"
[ "$(body_of "$R" | json '["sessions"].__len__()')" = "$SESSIONS" ] || fail "sessions lost in the upgrade: $R"
R="$(auth POST /refresh "{\"refresh_token\":\"$REFRESH\"}")"
[ "$(status_of "$R")" = 200 ] || fail "a refresh token from before the upgrade answered $(status_of "$R")"
[ "$(status_of "$(login "$TRIAL_EMAIL" "$TRIAL_PASSWORD")")" = 200 ] || fail "trial user lost in the upgrade"
LOUD="$(loud_lines "$(invocation)")"
[ -z "$LOUD" ] || fail "the start after the upgrade wrote warning or error lines: $LOUD"
step "upgrade $VERSION1 → $VERSION2 while serving: restarted once; token, refresh token, sessions, keys, users kept"

# 4. A data directory portero cannot use (a root-owned file, as a root-run command might leave): one line, no loop.
IN systemctl stop portero.socket portero.service
IN chown root:root /var/lib/portero/LOCK
IN systemctl start portero.service 2>/dev/null && fail "the service started on a data directory it cannot use"
sleep 3   # longer than RestartSec=2s: a restart, if any, would have happened
[ "$(IN systemctl show portero.service -p ActiveState --value)" = failed ] || fail "not failed"
[ "$(IN systemctl show portero.service -p NRestarts --value)" = 0 ] || fail "systemd restarted it (a restart loop)"
[ "$(IN systemctl show portero.service -p ExecMainStatus --value)" = 77 ] || fail "exit status is not 77 (EX_NOPERM)"
LOUD="$(loud_lines "$(invocation)")"
[ "$(echo "$LOUD" | wc -l)" = 1 ] || fail "expected one line from portero, got: $LOUD"
echo "$LOUD" | grep -q 'run: chown -R portero:portero /var/lib/portero' || fail "the line does not say what to run"
IN systemctl status portero.service --no-pager -n 5 >"$W/status.txt" 2>&1 || true
grep -q 'chown -R portero:portero' "$W/status.txt" || { cat "$W/status.txt" >&2; fail "systemctl status does not say what to run"; }
sed 's/^/    /' "$W/status.txt"
echo "    $LOUD"
IN chown -R portero:portero /var/lib/portero
IN systemctl reset-failed portero.service
IN systemctl start portero.socket portero.service
[ "$(status_of "$(login "$EMAIL" "$PASSWORD")")" = 200 ] || fail "login after the fix"
step "root-owned file in the data directory: exit 77 at once, NRestarts=0, one line naming the chown; fixed by it"

# 5. Remove keeps the configuration and the data; purge removes them; the user stays.
IN apt-get remove -y portero >"$W/remove.log" 2>&1 || { cat "$W/remove.log" >&2; fail "apt-get remove"; }
[ "$(IN systemctl is-active portero.service portero.socket | sort -u)" = inactive ] || fail "still running after remove"
IN test ! -e /usr/bin/portero || fail "/usr/bin/portero is still there after remove"
IN test -f /etc/portero/portero.yaml || fail "remove deleted the conffile"
IN grep -q EdDSA /etc/portero/portero.yaml || fail "remove lost the admin's edit of the conffile"
IN test -f /etc/portero/jwt-secret || fail "remove deleted the credential"
IN sh -c 'ls /var/lib/portero/snapshot-*.json' >/dev/null || fail "remove deleted the data"
IN id portero >/dev/null || fail "remove deleted the portero user"
step "apt remove: stopped; /etc/portero (with the admin's edit) and /var/lib/portero kept"
IN apt-get purge -y portero >"$W/purge.log" 2>&1 || { cat "$W/purge.log" >&2; fail "apt-get purge"; }
IN test ! -e /etc/portero || fail "purge left /etc/portero"
IN test ! -e /var/lib/portero || fail "purge left /var/lib/portero"
IN test ! -e /etc/systemd/system/sockets.target.wants/portero.socket || fail "purge left the enablement link"
IN id portero >/dev/null || fail "purge deleted the portero user"
step "apt purge: /etc/portero, /var/lib/portero and the enablement link gone; the portero user stays"

# 6. `apt install ./portero.deb`: apt resolves the Depends. On a machine with nothing installed (an empty dpkg status,
# the archive's package lists) it would install them all; on this one, where they are installed, it installs portero.
IN sh -c ': > /var/tmp/empty-status'
IN apt-get -s -q -o Dir::State::status=/var/tmp/empty-status install /opt/portero.deb >"$W/apt-sim.log" 2>&1 \
    || { cat "$W/apt-sim.log" >&2; fail "apt cannot resolve the package's dependencies on an empty machine"; }
for dependency in libargon2-1 libsystemd0 systemd init-system-helpers libstdc++6 portero; do
    grep -q "^Inst $dependency " "$W/apt-sim.log" || { cat "$W/apt-sim.log" >&2; fail "apt would not install $dependency"; }
done
IN apt-get install -y -q /opt/portero.deb >"$W/apt.log" 2>&1 || { cat "$W/apt.log" >&2; fail "apt install ./deb"; }
[ "$(IN dpkg-query -W -f '${Status}' portero)" = "install ok installed" ] || fail "portero not installed by apt"
IN systemctl start portero.service
[ "$(status_of "$(api GET /readyz "")")" = 200 ] || fail "not ready after apt install"
step "apt install ./$(basename "$DEB"): on an empty machine apt would install $(grep -c '^Inst ' "$W/apt-sim.log") packages (libargon2-1, libsystemd0, systemd, …); here it installs portero, which serves"

# 7. Mail on the embedded default under the shipped unit, with Debian's postfix installed: its sendmail needs the
# set-group-ID postdrop, which NoNewPrivileges disables, so the daemon hands mail to the same postfix over SMTP on
# 127.0.0.1:25. The fresh configuration from step 6 names no transport. Postfix delivers portero-mail.test locally.
if IN test -x /usr/sbin/postdrop; then
    IN useradd -m mailsink
    IN postconf -e 'mydestination = localhost, portero-mail.test' 'local_recipient_maps =' 'luser_relay = mailsink@localhost' \
        'home_mailbox = Maildir/'
    IN systemctl restart postfix.service
    for _ in $(seq 100); do IN bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' 2>/dev/null && break; sleep 0.1; done
    IN systemctl restart portero.service
    IN systemctl show portero.service -p StatusText --value | grep -q '^serving ' || fail "no STATUS= serving line"
    LOUD="$(loud_lines "$(invocation)")"
    [ -z "$LOUD" ] || fail "the start with postfix wrote warning or error lines: $LOUD"
    MAIL_EMAIL="postfix-user@portero-mail.test"
    R="$(auth POST /register "{\"email\":\"$MAIL_EMAIL\",\"password\":\"$PASSWORD\"}")"
    [ "$(status_of "$R")" = 201 ] || fail "register $MAIL_EMAIL answered $R"
    CODE=
    for _ in $(seq 200); do
        CODE="$(IN sh -c 'cat /home/mailsink/Maildir/new/* 2>/dev/null || true' | sed -n 's/.*code is \([0-9]\{6\}\).*/\1/p' | head -n 1)"
        [ -n "$CODE" ] && break
        sleep 0.1
    done
    [ -n "$CODE" ] || { IN journalctl --no-pager -n 30 SYSLOG_FACILITY=2 >&2; fail "no mail from portero reached postfix's mailbox"; }
    R="$(auth POST /verify-email "{\"email\":\"$MAIL_EMAIL\",\"code\":\"$CODE\"}")"
    [ "$(status_of "$R")" = 200 ] || fail "verify-email with the code postfix delivered answered $(status_of "$R")"
    IN journalctl --sync
    IN journalctl -u portero --no-pager -o cat | grep -q 'mail transport does not work' && fail "mail check failed"
    step "embedded mail default with postfix installed: SMTP to 127.0.0.1:25, the code arrived in a mailbox and verified"
else
    echo "    note: no postfix on this machine; mail under the shipped unit not checked"
fi

# 8. admin_group under the shipped unit: a member (its supplementary group, per the user database) runs `portero users
# list` against the installed service; a user outside it is refused in one line. Both may open the socket (group
# portero), so the daemon's SO_PEERCRED check decides, with the real uids (no PrivateUsers=).
IN groupadd portero-admin
IN useradd -m -G portero,portero-admin alice
IN useradd -m -G portero bob
IN sh -c 'printf "admin_group: portero-admin\n" >> /etc/portero/portero.yaml'
IN systemctl restart portero.service
R="$(api GET /readyz "")"
[ "$(status_of "$R")" = 200 ] || fail "not ready with admin_group: $R"
IN runuser -u alice -- portero users list >"$W/alice.txt" 2>&1 || { cat "$W/alice.txt" >&2; fail "alice (admin_group) was refused"; }
grep -q 'EMAIL' "$W/alice.txt" || { cat "$W/alice.txt" >&2; fail "alice's users list has no table"; }
if IN runuser -u bob -- portero users list >"$W/bob.txt" 2>&1; then fail "bob (not in admin_group) was let in"; fi
[ "$(wc -l <"$W/bob.txt")" = 1 ] && grep -q 'access denied' "$W/bob.txt" || { cat "$W/bob.txt" >&2; fail "bob's refusal is not one line"; }
IN journalctl --sync
IN journalctl -u portero PORTERO_EVENT=admin.denied -o cat --no-pager | grep -q . || fail "no admin.denied event for bob"
echo "    alice: $(head -n 1 "$W/alice.txt" | tr -s ' ')"
echo "    bob:   $(cat "$W/bob.txt")"
step "admin_group under the shipped unit: a member lists users, another user of group portero is refused"

SCORE="$(IN systemd-analyze security portero.service --no-pager 2>/dev/null | tail -n 1)"
echo "    $SCORE"
python3 -c 'import re,sys; s=float(re.search(r"level for \S+: ([0-9.]+)", sys.argv[1]).group(1)); sys.exit(s > 2.0)' \
    "$SCORE" || fail "systemd-analyze security exposure above 2.0: $SCORE"
echo "nspawn e2e: passed"
