#!/usr/bin/env bash
# One sitting on a GPU box with no Node, npm or network (the lent machine of issue 20): each step
# unpacks the pack:offline bundle, brings the Vulkan loader along when the box lacks it, measures,
# and leaves its files in OUT, named for the card. Each step is planned to end within a 10-minute
# call; analysis (compare, size, report) needs no card and is done afterwards where the files land.
#
#   bash scripts/gpu-session.sh prepare          here, once: the bundle and the loader .debs (.gl/)
#   bash scripts/gpu-session.sh STEP [OUT]       on the box, from the repository root
#   bash scripts/gpu-session.sh land TAR [RESULTS]   here, after a sitting: its files into results/
#
# STEP  check     nvidia-smi, `moebench env`, `moebench env --check` (about a minute)
#       default   the default suite, --repetitions 3, on each GPU engine: one file per engine
#       deepseek  the deepseek-v3 suite (fp16) on torch-cuda, then ort-webgpu, within a time budget
#       repeat    npm run bench:repeat's five runs of the default suite (issue 12, on a quiet host)
#       sitting   in one call of SITTING_S seconds (default 520) the parts in SITTING_PARTS (default
#                 "check default deepseek"): check; default (each engine); deepseek (SITTING_SUITE,
#                 fp16 on the peers, fp32 on WebGPU, on SITTING_DEEPSEEK, files named for the
#                 suite: mixtral's runs there too); repeat (bench:repeat on REPEAT_ENGINE in what is
#                 left). For a lease of one call: every file goes into one tar in OUT, renewed after
#                 each run, so a call cut short still brings back what was measured
# OUT defaults to $OUT (the device tool's folder), else ./gpu-session-out.
# Environment: ENGINES (default "torch-cuda ort-webgpu tfjs-webgpu"), BUDGET_S (deepseek's time
# budget, default 420), REPEAT_ENGINE (default torch-cuda), SITTING_S, SITTING_PARTS and
# SITTING_SUITE (sitting's seconds, parts and deepseek suite, default
# scripts/gpu-sitting-deepseek.json), SITTING_DEEPSEEK (the engines of its deepseek part, default
# the first two of ENGINES), BUNDLE (default moebench-offline-linux-x64.tar.xz), WORK (where it is
# unpacked). A Vulkan driver already chosen (VK_ICD_FILENAMES or VK_DRIVER_FILES) is kept, so the
# steps can be rehearsed on lavapipe.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
step=${1:-}
bundle=${BUNDLE:-$root/moebench-offline-linux-x64.tar.xz}
# a suite named relative to where the step was started, before the steps move into the bundle
[ -z "${SITTING_SUITE:-}" ] || SITTING_SUITE=$(realpath "$SITTING_SUITE")
log() { echo "gpu-session: $*" >&2; }

if [ "$step" = prepare ]; then
  (cd "$root" && npm run --silent pack:offline)
  # the Vulkan loader, which the box lacks (.gl/ is git-ignored, to be carried); apt reads the system's own sources
  mkdir -p "$root/.gl" /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update >/dev/null
  (cd "$root/.gl" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2>&1 >/dev/null | grep -v "unsandboxed" >&2 || true)
  tree=$(cd "$root" && git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
  carried=$(du -cb "$bundle" "$root"/.gl/*.deb | tail -1 | cut -f1)
  log "ready: carry $(basename "$bundle") and .gl: $(((tree + carried) / 1048576)) MiB with the tree's own files (the limit is 64 MiB)"
  exit 0
fi
if [ "$step" = land ]; then
  # a sitting's tar (STAMP-CARD-sitting.tar) landed here: its result files into RESULTS unchanged,
  # everything else (logs, notes, env --check's file) into RESULTS/DATE-CARD-sitting/, and
  # bench:repeat's runs unpacked there, its first finished run also into RESULTS, for it is the
  # default suite on that engine. Nothing is overwritten: a file already there stops it first
  tarball=${2:-}
  results=${3:-$root/results}
  [ -f "$tarball" ] && [[ $tarball == *-sitting.tar ]] || { log "land: give a sitting's STAMP-CARD-sitting.tar (and RESULTS, default results/)"; exit 2; }
  name=$(basename "$tarball" -sitting.tar)
  folder=$results/${name%%T*}-${name#*Z-}-sitting
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  tar -xf "$tarball" -C "$tmp"
  files=() targets=() runs=()
  for f in "$tmp"/*; do
    case $f in
      *-repeat-runs.tar.xz) runs=("$f") && continue ;;
      *-check.json) d=$folder ;;
      *.json) d=$results ;;
      *) d=$folder ;;
    esac
    files+=("$f") targets+=("$d/$(basename "$f")")
  done
  unpacked=$folder/$name-repeat-runs
  for t in "${targets[@]}"; do
    [ ! -e "$t" ] || { log "land: $t is already there; nothing landed"; exit 2; }
  done
  [ ${#runs[@]} -eq 0 ] || [ ! -e "$unpacked" ] || { log "land: $unpacked is already there; nothing landed"; exit 2; }
  mkdir -p "$results" "$folder"
  for i in "${!files[@]}"; do
    cp -p "${files[$i]}" "${targets[$i]}"
    echo "${targets[$i]}"
    # a real-shape model's file is what a fleet is sized from
    [ "$(dirname "${targets[$i]}")" = "$results" ] || continue
    for model in $(node -p 'const ps = require(process.argv[1]).cases.map((c) => c.workload.preset); [...new Set(ps)].filter((p) => !["small", "tiny", "tiny-mla", "roofline"].includes(p)).join(" ")' "${targets[$i]}" 2>/dev/null || true); do
      log "land: size from it: npx moebench size --scenario bench/scenarios/seed.json --from ${targets[$i]} --model $model"
    done
  done
  if [ ${#runs[@]} -gt 0 ]; then
    mkdir -p "$unpacked"
    tar -xJf "${runs[0]}" -C "$unpacked"
    echo "$unpacked/ ($(cd "$unpacked" && ls run*.json 2>/dev/null | tr '\n' ' '))"
    # a run the sitting stopped has no end time, and only a finished one is the suite's figure
    engine=$(node -p 'const f = require(process.argv[1]); f.environment.endedAt ? f.cases[0]?.backend ?? "" : ""' "$unpacked/run1.json" 2>/dev/null || true)
    if [ -n "$engine" ]; then
      first=$results/$name-repeat-run1-default-$engine.json
      [ -e "$first" ] || { cp -p "$unpacked/run1.json" "$first" && echo "$first"; }
    fi
    log "land: judge the repeat runs with: npm run bench:repeat -- --judge $unpacked"
  fi
  # each result file's table, for the folder's README: a result JSON and nothing else under RESULTS
  shown=()
  for t in "${targets[@]}" ${first:+"$first"}; do [ "$(dirname "$t")" = "$results" ] && shown+=("$t"); done
  [ ${#shown[@]} -eq 0 ] || log "land: each run's table: npx moebench show ${shown[*]}"
  log "land: $(basename "$tarball") landed; $folder/ wants a README.md of what ran and what it showed"
  exit 0
fi
case "$step" in check | default | deepseek | repeat | sitting) ;; *)
  sed -n '2,28p' "$0" >&2
  exit 2
  ;;
esac
out=${2:-${OUT:-$root/gpu-session-out}}
mkdir -p "$out"
[ -f "$bundle" ] || { log "no $bundle: run 'bash scripts/gpu-session.sh prepare' here and carry it"; exit 2; }

# a fresh box each call: unpacking takes seconds; one folder per bundle, so a rebuilt one is unpacked again
work=${WORK:-/tmp/moebench-session-$(stat -c %s-%Y "$bundle")}
if [ ! -x "$work/moebench/moebench" ]; then
  mkdir -p "$work"
  tar -C "$work" -xJf "$bundle"
fi
mb="$work/moebench/moebench"

# the NVIDIA Vulkan driver (libGLX_nvidia) needs glvnd's libGLdispatch beside the loader: without
# it the loader finds the driver's manifest but no adapter (the first sitting on an H200 saw that)
if ! ldconfig -p | grep -q libGLdispatch.so.0 && compgen -G "$root/.gl/*.deb" >/dev/null; then
  for f in "$root"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$icd" ] && { export VK_DRIVER_FILES=$icd; break; }
  done
fi

card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
slug=$(echo "${card:-no-gpu}" | tr 'A-Z' 'a-z' | sed -e 's/^nvidia //' -e 's/[^a-z0-9]\{1,\}/-/g' -e 's/-$//')
stamp=$(date -u +%Y-%m-%dT%H-%MZ)
engines=${ENGINES:-torch-cuda ort-webgpu tfjs-webgpu}
cd "$work/moebench"
log "$step on ${card:-no NVIDIA card}; files to $out"

# one engine's run of a suite into a file of its own; stopped after STOP_S seconds (0: never) with
# SIGTERM, which moebench survives by saving what it measured (exit 124)
measure() { # SUITE[=PATH] ENGINE STOP_S [MORE RUN OPTIONS...]
  local suite=${1%%=*} path=${1#*=} e=$2 stop_s=$3 stop=()
  shift 3
  [ "$stop_s" -gt 0 ] && stop=(timeout -s TERM -k 30 "$stop_s")
  log "$suite suite on $e"
  "${stop[@]}" "$mb" run --suite "$path" --backend "$e" --repetitions 3 --model-dir "$work/models" "$@" \
    --out "$out/$stamp-$slug-$suite-$e.json" 2>&1 | tee -a "$out/$stamp-$slug-$suite.log" || log "$e: exit $?"
}

# bench:repeat's five runs of the default suite on one engine, each within RUN_S seconds (0: no
# budget), the whole stopped after STOP_S seconds (SIGTERM: the run in progress saves what it
# measured), so the runs it finished are archived before the call's own limit
repeat() { # RUN_S [STOP_S]
  local budget=() stop=() dir report=$out/$stamp-$slug-repeat.txt
  [ "$1" -gt 0 ] && budget=(--time-budget-s "$1")
  [ "${2:-0}" -gt 0 ] && stop=(timeout -s TERM -k 10 "$2")
  log "bench:repeat on ${REPEAT_ENGINE:-torch-cuda}"
  "${stop[@]}" node/bin/node dist/bench/repeat.js --backend "${REPEAT_ENGINE:-torch-cuda}" --repetitions 3 "${budget[@]}" 2>&1 | tee "$report" || true
  # the five run files, in one archive (the device tool brings back at most 8 files); a bench
  # stopped early printed no "files:" line, but its first run named the folder
  dir=$(sed -n 's/^files: //p' "$report" | tail -1)
  [ -n "$dir" ] || dir=$(sed -n 's|.* → \(.*\)/run1\.json$|\1|p' "$report" | head -1)
  [ -n "$dir" ] && tar -C "$dir" -cJf "$out/$stamp-$slug-repeat-runs.tar.xz" --exclude=models . || true
}

check() {
  { nvidia-smi || true; } >"$out/$stamp-$slug-nvidia-smi.txt" 2>&1
  "$mb" env >"$out/$stamp-$slug-env.txt" 2>&1 || true
  "$mb" env --check --model-dir "$work/models" --out "$out/$stamp-$slug-check.json" 2>&1 | tee "$out/$stamp-$slug-check.txt" || true
}

case "$step" in
  check) check ;;
  sitting)
    # one call holds the whole lease: the files are gathered in a folder of their own and tarred
    # into OUT after every run, and each run is stopped (SIGTERM: what it measured is saved) at
    # its share of what is left, so the call ends inside its limit
    parts=" ${SITTING_PARTS:-check default deepseek} "
    part() { [[ $parts == *" $1 "* ]]; }
    end=$(($(date +%s) + ${SITTING_S:-520}))
    tarball=$out/$stamp-$slug-sitting.tar
    out=$(mktemp -d /tmp/moebench-sitting.XXXX) # not under OUT, whose files come back eight at most
    keep() { tar -C "$out" -cf "$tarball.part" --exclude=models . && mv "$tarball.part" "$tarball"; }
    left() { echo $((end - $(date +%s))); }
    { echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"; ldconfig -p | grep -i -E "vulkan|libcuda" || true; ls /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1 || true; cat "${VK_DRIVER_FILES:-/dev/null}"; ldd /usr/local/nvidia/lib64/libGLX_nvidia.so.0 2>&1 | grep -E "not found|GLdispatch" || true; } >"$out/$stamp-$slug-box.txt"
    # the CPU and memory layout: the first H200 sitting's host check saw its two processes read
    # memory 25-30% apart, and its ORT WebGPU processes differ by up to 15%
    {
      lscpu 2>&1 || true
      for n in /sys/devices/system/node/node*; do [ -e "$n/cpulist" ] && echo "${n##*/}: cpus $(cat "$n/cpulist"), $(grep MemTotal "$n/meminfo" | tr -s ' ' | cut -d' ' -f4-5)"; done
      echo "isolated cpus: $(cat /sys/devices/system/cpu/isolated 2>/dev/null)"; grep Cpus_allowed_list /proc/self/status || true
      nvidia-smi topo -m 2>&1 || true
    } >>"$out/$stamp-$slug-box.txt"
    # deepseek's weights, models and references, built cold by its first processes otherwise (a
    # minute of JS per case): one case per core beside the check, finished before anything is
    # timed. The suite's fp16 for the peers; fp32 for the WebGPU engines, whose fp16 (ORT's
    # accumulates in fp16) misses the check at these shapes (the first H200 sitting)
    deepseek=${SITTING_SUITE:-$root/scripts/gpu-sitting-deepseek.json}
    shards=8
    if part deepseek; then
      # its files are named for the suite (mixtral's too); a suite that does not parse ends the call here
      label=$(node/bin/node -p 'require(process.argv[1]).name' "$deepseek")
      for i in $(seq 0 $((shards - 1))); do
        node/bin/node dist/bench/prepare.js --suite "$deepseek" --for peer --model-dir "$work/models" --shard "$i/$shards" 2>>"$out/$stamp-$slug-prepare.log" &
        node/bin/node dist/bench/prepare.js --suite "$deepseek" --dtype fp32 --for onnx --model-dir "$work/models" --shard "$i/$shards" 2>>"$out/$stamp-$slug-prepare.log" &
      done
    fi
    part check && check
    keep
    # nothing is timed while the preparation loads every core
    while [ -n "$(jobs -rp)" ] && [ "$(left)" -gt $((${SITTING_S:-520} * 6 / 10)) ]; do sleep 2; done
    for j in $(jobs -rp); do kill "$j" 2>/dev/null || true; done
    wait || true
    part deepseek && echo "prepared with $(left) s left" >>"$out/$stamp-$slug-prepare.log"
    set -- $engines
    # the default suite first (every engine), then the real-shape suite (deepseek-v3's unless
    # SITTING_SUITE names another) on the first two (the peer, then ONNX Runtime), then
    # bench:repeat in what is left
    if part default; then
      for e in "$@"; do
        measure default "$e" $(($(left) * 2 / 10)) --time-budget-s 20
        keep
      done
    fi
    set -- ${SITTING_DEEPSEEK:-${@:1:2}}
    part deepseek || set --
    # with a repeat part to follow, the deepseek part leaves it half of what is left
    part repeat && reserve=$(($(left) / 2)) || reserve=0
    for n in $(seq $# -1 1); do
      # the first engine (the peer every other figure is read against) twice the share of each after it
      share=$((($(left) - reserve - 10) * 2 / (n + 1)))
      [ "$share" -gt 30 ] || break
      case $1 in
        *-webgpu) measure "$label-fp32=$deepseek" "$1" "$share" --time-budget-s $((share * 8 / 10)) --dtype fp32 ;;
        *) measure "$label=$deepseek" "$1" "$share" --time-budget-s $((share * 8 / 10)) ;;
      esac
      keep
      shift
    done
    if part repeat; then
      # five runs and their compares in what is left, each run's processes started within its share
      per=$((($(left) - 30) / 5))
      if [ "$per" -gt 20 ]; then
        # a run's probe and host check come on top of its budget: runs that overrun are stopped
        # with time left to archive the ones finished
        repeat "$per" $(($(left) - 20))
        keep
      fi
    fi
    ;;
  default)
    for e in $engines; do measure default "$e" 0; done
    ;;
  deepseek)
    # torch-cuda first: it is the peer every other figure is read against
    set -- $engines
    per=$((${BUDGET_S:-420} / $#))
    for e in "$@"; do measure deepseek-v3 "$e" "$per" --dtype fp16 --time-budget-s "$per"; done
    ;;
  repeat) repeat 90 ;;
esac
ls -l "$out" >&2
