#!/bin/bash
# Builds dist/portero_<version>_<arch>.deb: the release binary (Swift stdlib linked statically), the systemd
# units, sysusers.d and tmpfiles.d entries, and /etc/portero/portero.yaml as a conffile.
# The maintainer scripts create the user and the signing-key credential; they enable and start nothing.
# usage: packaging/build-deb.sh [--binary PATH] [--output DIR] [VERSION]
#   --binary  package this binary instead of building the release one (the nspawn end-to-end test packages the
#             debug build, which links the Swift runtime from the toolchain, so that CI need not build twice)
#   --output  where the .deb goes (default dist/); its path is the last line printed
#   --fast    gzip -1 instead of xz (a test's throwaway package; xz of a debug binary takes minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=; OUT=dist; COMPRESS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) BIN="$(realpath "$2")"; shift 2 ;;
        --output) OUT="$2"; shift 2 ;;
        --fast) COMPRESS=(-Zgzip -z1); shift ;;
        -*) echo "build-deb.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
VERSION="${1:-$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/portero/Portero.swift)}"
ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
chmod 0755 "$STAGE"   # the package's ./ entry; mktemp makes it 0700

./scripts/ensure-debs.sh libsystemd-dev libargon2-dev libssl-dev pkg-config dpkg-dev
if [ -z "$BIN" ]; then
    # SCRATCH_PATH: another build folder than .build (e.g. to build while a debug build holds .build's lock).
    swift build -c release --product portero --static-swift-stdlib --scratch-path "${SCRATCH_PATH:-.build}"
    BIN="$(swift build -c release --scratch-path "${SCRATCH_PATH:-.build}" --show-bin-path)/portero"
fi

install -D -m 0755 "$BIN" "$STAGE/usr/bin/portero"
strip --strip-unneeded "$STAGE/usr/bin/portero" || true
install -D -m 0644 packaging/portero.service "$STAGE/lib/systemd/system/portero.service"
install -D -m 0644 packaging/portero.socket "$STAGE/lib/systemd/system/portero.socket"
install -D -m 0644 packaging/portero.sysusers "$STAGE/usr/lib/sysusers.d/portero.conf"
install -D -m 0644 packaging/portero.tmpfiles "$STAGE/usr/lib/tmpfiles.d/portero.conf"
install -D -m 0640 etc/portero.yaml "$STAGE/etc/portero/portero.yaml"
install -D -m 0644 README.md "$STAGE/usr/share/doc/portero/README.md"

# Shared-library dependencies of the binary (libsystemd0, libargon2-1, libc6, …), as dpkg-shlibdeps sees them.
mkdir -p "$STAGE/debian"
printf 'Source: portero\n\nPackage: portero\nArchitecture: any\n' > "$STAGE/debian/control"
DEPENDS="$(cd "$STAGE" && dpkg-shlibdeps -O --ignore-missing-info -e usr/bin/portero 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')"
rm -rf "$STAGE/debian"

mkdir -p "$STAGE/DEBIAN"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: portero
Version: $VERSION
Architecture: $ARCH
Maintainer: Portero developers <portero@localhost>
Section: net
Priority: optional
Depends: ${DEPENDS:-libc6}, systemd
Description: self-hosted authentication daemon
 Register, verify email with 6-digit codes, log in with JWT access tokens and
 rotating refresh tokens, over a Unix socket and TCP. One binary, one unit.
CONTROL
echo /etc/portero/portero.yaml > "$STAGE/DEBIAN/conffiles"

cat > "$STAGE/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    systemd-sysusers /usr/lib/sysusers.d/portero.conf
    # 0640 root:portero: it may hold jwt.secret (an admin may have removed the conffile: nothing to do then).
    if [ -e /etc/portero/portero.yaml ]; then chgrp portero /etc/portero/portero.yaml; fi
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/portero.conf || true
    # The unit loads the HS256 secret as the credential jwt-secret; create it once.
    if [ ! -e /etc/portero/jwt-secret ]; then
        umask 077
        head -c 48 /dev/urandom | base64 | tr -d '\n=' > /etc/portero/jwt-secret
        echo >> /etc/portero/jwt-secret
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
    fi
fi
exit 0
SCRIPT
cat > "$STAGE/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    systemctl stop portero.service portero.socket >/dev/null 2>&1 || true
fi
exit 0
SCRIPT
cat > "$STAGE/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
if [ "$1" = purge ]; then
    rm -f /etc/portero/jwt-secret
fi
exit 0
SCRIPT
chmod 0755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/prerm" "$STAGE/DEBIAN/postrm"

mkdir -p "$OUT"
dpkg-deb --root-owner-group "${COMPRESS[@]}" --build "$STAGE" "$OUT/portero_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/portero_${VERSION}_${ARCH}.deb"
