#!/bin/bash
# Generates the manual pages into DIR:
#   portero.8       from the argument-parser commands of BINARY (`portero --experimental-dump-help`), by
#                   swift-argument-parser's own generate-manual tool (the version Package.swift resolves), built
#                   once into .build/generate-manual: every subcommand, option and help text, never hand-edited.
#   portero.yaml.5  from docs/configuration.md by packaging/man/portero-yaml.py: every key, its default, its
#                   environment variable and flag, its values and what a reload does with it.
# usage: packaging/man/generate.sh --binary BINARY --output DIR [--version VERSION]
# The date on both pages is SOURCE_DATE_EPOCH's (default: the last commit's). Prints the two paths.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
BIN=; OUT=; VERSION=
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) BIN="$(realpath "$2")"; shift 2 ;;
        --output) OUT="$(realpath "$2")"; shift 2 ;;
        --version) VERSION="$2"; shift 2 ;;
        *) echo "usage: $0 --binary BINARY --output DIR [--version VERSION]" >&2; exit 2 ;;
    esac
done
[ -x "$BIN" ] && [ -d "$OUT" ] || { echo "usage: $0 --binary BINARY --output DIR [--version VERSION]" >&2; exit 2; }
EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)}"
DATE="$(date -u -d "@$EPOCH" +%F)"

# The checkout of swift-argument-parser that the package resolved (the one the binary was built with).
PARSER="${SCRATCH_PATH:-$REPO/.build}/checkouts/swift-argument-parser"
[ -f "$PARSER/Package.swift" ] || PARSER="$REPO/.build/checkouts/swift-argument-parser"
[ -f "$PARSER/Package.swift" ] || { echo "generate.sh: no swift-argument-parser checkout; run swift build first" >&2; exit 1; }
# Its own scratch folder: no lock shared with a build (or a test run) of the package itself.
TOOLS="$REPO/.build/generate-manual"
mkdir -p "$TOOLS"
swift build --package-path "$PARSER" --scratch-path "$TOOLS" --product generate-manual >"$TOOLS/build.log" 2>&1 \
    || { cat "$TOOLS/build.log" >&2; echo "generate.sh: building generate-manual failed" >&2; exit 1; }
"$TOOLS/debug/generate-manual" "$BIN" --section 8 --date "$DATE" --authors "Portero developers" --output-directory "$OUT"

python3 "$REPO/packaging/man/portero-yaml.py" --date "$DATE" --version "$VERSION" "$REPO/docs/configuration.md" \
    >"$OUT/portero.yaml.5"
echo "$OUT/portero.8"
echo "$OUT/portero.yaml.5"
