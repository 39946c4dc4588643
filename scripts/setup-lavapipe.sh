#!/usr/bin/env bash
# Unpacks Mesa 25 lavapipe (a Vulkan driver that runs on the CPU) from Debian
# bookworm-backports into .cache/lavapipe, so ONNX Runtime's WebGPU EP and Dawn
# have a Vulkan adapter on a machine without a GPU. Debian 12's own Mesa 22
# lavapipe is too old for Dawn. The system's apt sources and installed packages
# are left untouched: apt runs against a private state folder, and the mirror is
# read from the system's own apt sources.
#
# Prints the environment to use, e.g.  eval "$(bash scripts/setup-lavapipe.sh --env)"
set -euo pipefail

root_dir=$(cd "$(dirname "$0")/.." && pwd)
dest="$root_dir/.cache/lavapipe"
want_env=0
[ "${1:-}" = "--env" ] && want_env=1

print_env() {
  echo "export VK_ICD_FILENAMES=$dest/icd.json"
  echo "export LD_LIBRARY_PATH=$dest/root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
}

if [ -f "$dest/icd.json" ] && [ -f "$dest/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" ]; then
  [ $want_env = 1 ] && print_env
  exit 0
fi

log() { echo "setup-lavapipe: $*" >&2; }

mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' "$f")
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1=="deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
  log "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  exit 1
fi

work="$dest/apt"
mkdir -p "$work/lists/partial" "$work/cache" "$work/archives/partial" "$work/etc/parts" "$work/debs"
cat > "$work/etc/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-backports main
SRC
apt_opts=(
  -o "Dir::Etc::SourceList=$work/etc/sources.list"
  -o "Dir::Etc::SourceParts=$work/etc/parts"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "Dir::Cache::Archives=$work/archives"
  -o "APT::Sandbox::User=root"
)
log "reading package lists (bookworm, bookworm-backports)"
apt-get "${apt_opts[@]}" -qq update

mesa_version=$(apt-cache "${apt_opts[@]}" madison mesa-vulkan-drivers | awk -F'|' '/bookworm-backports/ {gsub(/ /,"",$2); print $2; exit}')
case "$mesa_version" in
  2[5-9].*|[3-9][0-9].*) ;;
  *) log "bookworm-backports has no Mesa >= 25 (found '${mesa_version:-none}')"; exit 1 ;;
esac

# The driver's direct dependencies that this system lacks, or has in too old a version.
needed=(libvulkan1)
deps=$(apt-cache "${apt_opts[@]}" show "mesa-vulkan-drivers=$mesa_version" | awk '/^Depends:/ {sub(/^Depends: /,""); print; exit}')
IFS=',' read -ra dep_list <<< "$deps"
for dep in "${dep_list[@]}"; do
  dep=${dep%%|*}
  name=$(echo "$dep" | awk '{print $1}')
  constraint=$(echo "$dep" | sed -n 's/.*(\(.*\)).*/\1/p')
  installed=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
  if [ -z "$installed" ]; then
    needed+=("$name")
  elif [ -n "$constraint" ]; then
    op=$(echo "$constraint" | awk '{print $1}')
    ver=$(echo "$constraint" | awk '{print $2}')
    case "$op" in ">=") dop=ge ;; "<=") dop=le ;; ">>") dop=gt ;; "<<") dop=lt ;; "=") dop=eq ;; *) dop=ge ;; esac
    dpkg --compare-versions "$installed" "$dop" "$ver" || needed+=("$name")
  fi
done

log "downloading mesa-vulkan-drivers $mesa_version and: ${needed[*]}"
(
  cd "$work/debs"
  apt-get "${apt_opts[@]}" -qq download "mesa-vulkan-drivers=$mesa_version"
  for name in "${needed[@]}"; do
    apt-get "${apt_opts[@]}" -qq download "$name/bookworm-backports" 2>/dev/null \
      || apt-get "${apt_opts[@]}" -qq download "$name"
  done
)
rm -rf "$dest/root"
mkdir -p "$dest/root"
for deb in "$work/debs"/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done

libdir="$dest/root/usr/lib/x86_64-linux-gnu"
missing=$(LD_LIBRARY_PATH="$libdir" ldd "$libdir/libvulkan_lvp.so" | awk '/not found/ {print $1}')
if [ -n "$missing" ]; then
  log "lavapipe needs libraries that are not on this system: $missing"
  exit 1
fi
cat > "$dest/icd.json.tmp" <<JSON
{
  "ICD": { "api_version": "1.4.0", "library_path": "$libdir/libvulkan_lvp.so" },
  "file_format_version": "1.0.0"
}
JSON
mv "$dest/icd.json.tmp" "$dest/icd.json"
rm -rf "$work/archives" "$work/cache"
log "Mesa $mesa_version lavapipe is in $dest"
[ $want_env = 1 ] && print_env
exit 0
