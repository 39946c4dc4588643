#!/usr/bin/env bash
# The README's install, checked as a fresh machine meets it, on npm 10 and npm 11 (Node 20 ships
# npm 10; the development machines have npm 11): `npm ci` of this package.json, lockfile and .npmrc
# in an empty folder must succeed from the npm registry alone, run no dependency's install script
# (onnxruntime-node's would fetch the CUDA provider from a feed offline machines cannot reach), and
# print no "Unknown project config" warning (the warning npm printed on every command while the
# skip was an .npmrc key only onnxruntime-node read).
#   bash scripts/check-install.sh           (.ci/run runs it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for major in 10 11; do
  dir=$(mktemp -d /tmp/moebench-install-XXXX)
  cp "$root/package.json" "$root/package-lock.json" "$root/.npmrc" "$dir/"
  # npm of that major from the registry; --ignore-scripts here keeps npm's own install quiet too
  npm_bin="$dir/.npm-$major"
  npm install --prefix "$npm_bin" --no-audit --no-fund --ignore-scripts --silent "npm@$major" >/dev/null
  npm_js="$npm_bin/node_modules/npm/bin/npm-cli.js"
  version=$(node "$npm_js" --version)
  if ! (cd "$dir" && node "$npm_js" ci --no-audit --no-fund) >"$dir/ci.log" 2>&1; then
    echo "check-install: npm $version ci failed:" >&2
    tail -20 "$dir/ci.log" >&2
    status=1
    continue
  fi
  provider="$dir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so"
  if grep -q "Unknown project config" "$dir/ci.log"; then
    echo "check-install: npm $version warns: $(grep 'Unknown project config' "$dir/ci.log" | head -1)" >&2
    status=1
  elif [ -e "$provider" ]; then
    echo "check-install: npm $version ran onnxruntime-node's install script (the CUDA provider was downloaded)" >&2
    status=1
  elif [ ! -e "$dir/node_modules/onnxruntime-node/package.json" ]; then
    echo "check-install: npm $version did not install onnxruntime-node" >&2
    status=1
  else
    echo "check-install: npm $version: npm ci installed from the registry alone, no install script ran, no config warning"
  fi
  rm -rf "$dir"
done
exit $status
