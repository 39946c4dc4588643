#!/usr/bin/env bash
# CI's stand-in for a GPU lab box (issue 14): reruns the test files that depend on the machine
# (engines, cards, probes, env) with a stand-in nvidia-smi reporting two H100s and a stand-in
# ONNX Runtime CUDA provider whose CUDA 12 libraries are missing, and checks that `moebench env`
# explains both. Nothing here needs a GPU; the stand-in provider is removed again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/moebench-gpu-standin.XXXX)
ort_dir=$(node -e 'const p=require("path");console.log(p.join(p.dirname(require.resolve("onnxruntime-node/package.json")),"bin","napi-v6",process.platform,process.arch))')
placed=()
cleanup() {
  for f in "${placed[@]}"; do rm -f "$f"; done
  rm -rf "$work"
}
trap cleanup EXIT

# nvidia-smi as two H100s: the query format moebench reads, the -lms loop, and its plain header
mkdir -p "$work/bin"
cat > "$work/bin/nvidia-smi" <<'SMI'
#!/bin/sh
case "$*" in
  "") echo "| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4 |"; exit 0 ;;
  *-lms*) while :; do echo "1755, 61"; sleep 0.05; done ;;
esac
echo "0, NVIDIA H100 80GB HBM3, GPU-aaaa, 81559 MiB, 550.54.15, 1980 MHz, 1980 MHz, 700.00 W, 35"
echo "1, NVIDIA H100 80GB HBM3, GPU-bbbb, 81559 MiB, 550.54.15, 1755 MHz, 1980 MHz, 700.00 W, 61"
SMI
chmod +x "$work/bin/nvidia-smi"

# the CUDA provider as onnxruntime-node's postinstall would place it: real ELF files linked
# against CUDA 12's sonames, which this machine does not have
echo 'int moebench_stub(void) { return 0; }' > "$work/stub.c"
mkdir -p "$work/cuda12"
needed=(libcublasLt.so.12 libcublas.so.12 libcurand.so.10 libcudart.so.12 libcuda.so.1)
for so in "${needed[@]}"; do gcc -shared -fPIC -o "$work/cuda12/$so" "-Wl,-soname,$so" "$work/stub.c"; done
for f in libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do
  if [ -e "$ort_dir/$f" ]; then echo "ci-gpu-standin: $ort_dir/$f already exists; not replacing it" >&2; exit 1; fi
done
gcc -shared -fPIC -o "$ort_dir/libonnxruntime_providers_cuda.so" "$work/stub.c" -Wl,--no-as-needed "${needed[@]/#/$work/cuda12/}"
placed+=("$ort_dir/libonnxruntime_providers_cuda.so")
gcc -shared -fPIC -o "$ort_dir/libonnxruntime_providers_shared.so" "$work/stub.c"
placed+=("$ort_dir/libonnxruntime_providers_shared.so")

export PATH="$work/bin:$PATH"
unset CUDA_VISIBLE_DEVICES

status=0
npx vitest run src/test/probe.test.ts src/test/isolation.test.ts src/test/tfjs.test.ts src/test/webgpu.test.ts src/test/cudaLibraries.test.ts src/test/envCheck.test.ts src/test/cli.test.ts \
  --no-file-parallelism --test-timeout=120000 --hook-timeout=120000 || status=$?

# env wraps long lines to 120 columns: continuation lines (indented) are joined back before matching
env_out=$(node dist/src/cli.js env | perl -0pe 's/\n +/ /g')
check() {
  if ! grep -qF -- "$1" <<<"$env_out"; then
    echo "ci-gpu-standin: moebench env does not say: $1" >&2
    status=1
  fi
}
check "NVIDIA H100 80GB HBM3"
check "ort-cuda: CUDA 12, cuDNN 9 (from the DT_NEEDED entries of $ort_dir/libonnxruntime_providers_cuda.so"
check "ort-cuda needs CUDA 12 and cuDNN 9; this box has CUDA runtime 13 (libcudart), no cuBLAS, no cuDNN, a driver for CUDA up to 12.4; missing: libcublasLt.so.12, libcublas.so.12, libcurand.so.10, libcudart.so.12, libcuda.so.1"
if [ $status -eq 0 ]; then echo "ci-gpu-standin: the machine-dependent tests pass with two stand-in H100s and a CUDA provider missing its libraries, and env explains both"; fi
exit $status
