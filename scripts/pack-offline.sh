#!/usr/bin/env bash
# Packs moebench for a Linux x64 box with no network and no Node (an air-gapped lab GPU box):
# the Node binary that runs here, the built dist/, the production node_modules with only their
# linux-x64 native parts, the suites and scenarios, in one .tar.xz.
#   bash scripts/pack-offline.sh [OUT.tar.xz]      (npm run pack:offline)
# On the box:  tar xJf OUT.tar.xz && cd moebench && ./moebench env
# The CUDA provider goes with it when it is installed here (npm run setup:cuda).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-moebench-offline-linux-x64.tar.xz}")"

npm run --silent build
stage="$(mktemp -d)"
trap 'rm -rf "$stage" "$out.part.$$"' EXIT
root="$stage/moebench"
mkdir -p "$root/node/bin" "$root/bench"
cp "$(node -p process.execPath)" "$root/node/bin/node"
cp -r dist package.json package-lock.json README.md scripts python "$root/"
cp -r bench/suites bench/scenarios "$root/bench/"
# the bundle has no .git: result files read the commit from here (src/env/machine.ts gitSha)
if sha="$(git rev-parse HEAD 2>/dev/null)"; then
  git diff --quiet HEAD -- || sha="$sha-dirty"
  echo "$sha" > "$root/GIT_SHA"
fi

# production packages only (npm's own list); a package's nested node_modules come with it
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  rel="${dir#"$PWD"/}"
  case "$rel" in node_modules/*/node_modules/*) continue ;; esac
  mkdir -p "$root/$rel"
  cp -r "$rel/." "$root/$rel/"
done

# native parts for other platforms, and source maps, are dead weight on a linux-x64 box
ort="$root/node_modules/onnxruntime-node/bin/napi-v6"
find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
rm -rf "$ort/linux/arm64"
find "$root/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 -type d ! -name linux-x64 -exec rm -rf {} +
find "$root/node_modules" -name '*.map' -delete

cat > "$root/moebench" <<'EOF'
#!/bin/sh
# moebench on the Node that came with it (shell built-ins only: it must work on a bare PATH)
case "$0" in */*) here="${0%/*}" ;; *) here=. ;; esac
here="$(cd "$here" && pwd)"
exec "$here/node/bin/node" "$here/dist/src/cli.js" "$@"
EOF
chmod +x "$root/moebench"

mkdir -p "$(dirname "$out")"
# written beside its name and renamed when whole: a reader (or a second pack) never meets half an archive
XZ_OPT="${XZ_OPT:--6 -T0}" tar -C "$stage" -cJf "$out.part.$$" moebench
mv "$out.part.$$" "$out"
echo "$out: $(du -h "$out" | cut -f1) (unpacked $(du -sh "$root" | cut -f1)); on the box: tar xJf $(basename "$out") && cd moebench && ./moebench env"
