#!/usr/bin/env bash
# Installs onnxruntime-node's CUDA 12 execution provider on a lab box with internet.
# `npm ci` runs no dependency's install script (project .npmrc: ignore-scripts=true), so
# onnxruntime-node's, which downloads the provider from an external feed and fails offline, does
# not run. This runs that same install script on purpose, asking for the CUDA 12 provider.
# Air-gapped box: copy libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so
# of onnxruntime 1.30 (e.g. from the Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 package,
# runtimes/linux-x64/native/) next to libonnxruntime.so.1; `moebench env` shows the folder.
set -euo pipefail
root_dir=$(cd "$(dirname "$0")/.." && pwd)
pkg="$root_dir/node_modules/onnxruntime-node"
[ -d "$pkg" ] || { echo "setup-cuda: $pkg is missing; run npm ci first" >&2; exit 1; }
cd "$pkg"
ONNXRUNTIME_NODE_INSTALL=cuda12 npm_config_onnxruntime_node_install=cuda12 node ./script/install.js
echo "setup-cuda: done; check with: npx moebench env" >&2
