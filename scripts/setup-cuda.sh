#!/usr/bin/env bash
# Installs onnxruntime-node's CUDA 12 execution provider on a lab box with internet.
# `npm ci` skips onnxruntime-node's postinstall (project .npmrc: onnxruntime-node-install=skip),
# because it downloads the provider from an external feed and fails offline. This runs that
# same install script on purpose. The .npmrc setting reaches the script as
# npm_config_onnxruntime_node_install=skip, so it is overridden here by the variable the
# script reads first.
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
