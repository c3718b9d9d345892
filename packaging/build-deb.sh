#!/bin/bash
# Builds dist/portero_<version>_<arch>.deb: the release binary (Swift stdlib linked statically), the systemd
# units, sysusers.d and tmpfiles.d entries, /etc/portero/portero.yaml as a conffile, the manual pages portero(8)
# and portero.yaml(5), and the maintainer scripts in packaging/debian/ (they create the user and the signing-key
# credential, restart a running daemon once on an upgrade, and enable or start nothing on a new install).
# usage: packaging/build-deb.sh [--binary PATH] [--output DIR] [--fast] [--man DIR] [VERSION]
#   --binary  package this binary instead of building the release one (the nspawn end-to-end test packages the
#             debug build, which links the Swift runtime from the toolchain, so that CI need not build twice)
#   --output  where the .deb goes (default dist/); its path is the last line printed
#   --fast    gzip -1 instead of xz (a test's throwaway package; xz of a debug binary takes minutes on 2 cores)
#   --man     take portero.8 and portero.yaml.5 from DIR (made by packaging/man/generate.sh) instead of making them
#   VERSION   default: the version the binary was built with (PorteroVersion in Sources/portero/Portero.swift)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=; OUT=dist; COMPRESS=(-Zxz); MAN=
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) BIN="$(realpath "$2")"; shift 2 ;;
        --output) OUT="$2"; shift 2 ;;
        --fast) COMPRESS=(-Zgzip -z1); shift ;;
        --man) MAN="$(realpath "$2")"; shift 2 ;;
        -*) echo "build-deb.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
VERSION="${1:-$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/portero/Portero.swift)}"
# Whoever builds the package maintains that build: DEBFULLNAME and DEBEMAIL as dch(1) reads them, else git's
# identity.
NAME="${DEBFULLNAME:-$(git config user.name 2>/dev/null || true)}"
EMAIL="${DEBEMAIL:-$(git config user.email 2>/dev/null || true)}"
case "$EMAIL" in *"<"*) MAINTAINER="$EMAIL" ;; *) MAINTAINER="${NAME:+$NAME <$EMAIL>}" ;; esac
if [ -z "$EMAIL" ] || [ -z "$MAINTAINER" ]; then
    echo "build-deb.sh: set DEBFULLNAME and DEBEMAIL (or git's user.name and user.email): the package's Maintainer" >&2
    exit 2
fi
ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d)"
MAN_BUILT="$(mktemp -d)"
trap 'rm -rf "$STAGE" "$MAN_BUILT"' EXIT
chmod 0755 "$STAGE"   # the package's ./ entry; mktemp makes it 0700
# Reproducible dates (changelog, manual pages): the last commit's, else now.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"

./scripts/ensure-debs.sh libsystemd-dev libargon2-dev libssl-dev pkg-config dpkg-dev
if [ -z "$BIN" ]; then
    # SCRATCH_PATH: another build folder than .build (e.g. to build while a debug build holds .build's lock).
    swift build -c release --product portero --static-swift-stdlib --scratch-path "${SCRATCH_PATH:-.build}"
    BIN="$(swift build -c release --scratch-path "${SCRATCH_PATH:-.build}" --show-bin-path)/portero"
fi
if [ -z "$MAN" ]; then
    MAN="$MAN_BUILT"
    packaging/man/generate.sh --binary "$BIN" --output "$MAN" --version "$VERSION" >/dev/null
fi
for page in portero.8 portero.yaml.5; do
    [ -s "$MAN/$page" ] || { echo "build-deb.sh: no $MAN/$page" >&2; exit 1; }
done

install -D -m 0755 "$BIN" "$STAGE/usr/bin/portero"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$STAGE/usr/bin/portero"
install -D -m 0644 packaging/portero.service "$STAGE/lib/systemd/system/portero.service"
install -D -m 0644 packaging/portero.socket "$STAGE/lib/systemd/system/portero.socket"
install -D -m 0644 packaging/portero.sysusers "$STAGE/usr/lib/sysusers.d/portero.conf"
install -D -m 0644 packaging/portero.tmpfiles "$STAGE/usr/lib/tmpfiles.d/portero.conf"
install -D -m 0640 etc/portero.yaml "$STAGE/etc/portero/portero.yaml"
install -D -m 0644 README.md "$STAGE/usr/share/doc/portero/README.md"
install -D -m 0644 packaging/debian/copyright "$STAGE/usr/share/doc/portero/copyright"
install -D -m 0644 packaging/debian/lintian-overrides "$STAGE/usr/share/lintian/overrides/portero"
install -D -m 0644 "$MAN/portero.8" "$STAGE/usr/share/man/man8/portero.8"
install -D -m 0644 "$MAN/portero.yaml.5" "$STAGE/usr/share/man/man5/portero.yaml.5"
gzip -9n "$STAGE/usr/share/man/man8/portero.8" "$STAGE/usr/share/man/man5/portero.yaml.5"
# Shell completions, argument-parser's, where Debian's bash-completion, zsh and fish look for them.
install -d "$STAGE/usr/share/bash-completion/completions" "$STAGE/usr/share/zsh/vendor-completions" \
    "$STAGE/usr/share/fish/vendor_completions.d"
# bash-completion sources its files: no #! line (lintian bash-completion-with-hashbang).
"$BIN" --generate-completion-script bash | sed '1{/^#!/d}' >"$STAGE/usr/share/bash-completion/completions/portero"
"$BIN" --generate-completion-script zsh >"$STAGE/usr/share/zsh/vendor-completions/_portero"
"$BIN" --generate-completion-script fish >"$STAGE/usr/share/fish/vendor_completions.d/portero.fish"
chmod 0644 "$STAGE/usr/share/bash-completion/completions/portero" "$STAGE/usr/share/zsh/vendor-completions/_portero" \
    "$STAGE/usr/share/fish/vendor_completions.d/portero.fish"
# A native package's changelog: one entry for this build (the project's history is its git log).
{
    echo "portero ($VERSION) unstable; urgency=medium"
    echo
    echo "  * Built by packaging/build-deb.sh from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo
    echo " -- $MAINTAINER  $(date -R -u -d "@$SOURCE_DATE_EPOCH")"
} >"$STAGE/usr/share/doc/portero/changelog"
gzip -9n "$STAGE/usr/share/doc/portero/changelog"
find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# Shared-library dependencies of the binary (libsystemd0, libargon2-1, libc6, …), as dpkg-shlibdeps sees them.
mkdir -p "$STAGE/debian"
printf 'Source: portero\n\nPackage: portero\nArchitecture: any\n' > "$STAGE/debian/control"
DEPENDS="$(cd "$STAGE" && dpkg-shlibdeps -O --ignore-missing-info -e usr/bin/portero 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')"
rm -rf "$STAGE/debian"

mkdir -p "$STAGE/DEBIAN"
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@DEPENDS@/${DEPENDS:-libc6}/" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s/@INSTALLED_SIZE@/$(du -k -s --exclude=DEBIAN "$STAGE" | cut -f1)/" \
    packaging/debian/control.in > "$STAGE/DEBIAN/control"
echo /etc/portero/portero.yaml > "$STAGE/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$STAGE/DEBIAN/"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | sort -z \
    | xargs -0 md5sum) > "$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/md5sums" "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/conffiles"

mkdir -p "$OUT"
dpkg-deb --root-owner-group "${COMPRESS[@]}" --build "$STAGE" "$OUT/portero_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/portero_${VERSION}_${ARCH}.deb"
