#!/usr/bin/env bash
# The project's CI on a fresh machine: a Debian 12 tree (debootstrap, minbase) holding only what a
# CI machine promises (Node 20 and npm, taken from this host, python3, g++, make, git), a clean clone
# of this repository's HEAD with a copy of ../shared beside it, and `CI=true bash .ci/run` inside.
# Everything else the tests need must come from the project's own setup. The tree shares this host's
# kernel, network namespaces and devices: run nothing else that makes namespaces meanwhile.
#
# Usage: sudo scripts/fresh-machine.sh [TREE]   (default /var/tmp/phonehome-fresh)
# The Debian tree is made once, in TREE.base, and copied to TREE afresh for every run.
# Exit status: .ci/run's. The log is TREE/srv/ci/run.log.
set -euo pipefail

tree=${1:-/var/tmp/phonehome-fresh}
base=$tree.base
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
shared=$(cd "$repo/.." && pwd)/shared

[ "$(id -u)" = 0 ] || { echo "fresh-machine: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
[ -d "$shared" ] || { echo "fresh-machine: no $shared beside the repository" >&2; exit 2; }
node_bin=$(command -v node) || { echo "fresh-machine: no node on this host" >&2; exit 2; }
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
case "$("$node_bin" --version)" in
  v20.*) ;;
  *) echo "fresh-machine: this host's node is $("$node_bin" --version), not 20" >&2; exit 2 ;;
esac

mounted=()
cleanup() {
  local m
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    m=${mounted[i]}
    umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "fresh-machine: could not unmount $m" >&2
  done
}
trap cleanup EXIT

if [ ! -x "$base/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || apt-get install -y debootstrap
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" http://deb.debian.org/debian
fi
rm -rf "$tree"
cp -a "$base" "$tree"

# The tree's root is a mount point, as a machine's is (ip netns exec remounts / as a slave), and the
# kernel's file systems are slaves in it: an unmount in the tree never reaches this host's mounts.
mount --bind "$tree" "$tree"
mount --make-private "$tree"
mounted+=("$tree")
for d in dev sys; do
  mount --rbind "/$d" "$tree/$d"
  mount --make-rslave "$tree/$d"
  mounted+=("$tree/$d")
done
mount -t proc proc "$tree/proc"
mounted+=("$tree/proc")
mount -t tmpfs tmpfs "$tree/run"
mounted+=("$tree/run")
cp /etc/resolv.conf "$tree/etc/resolv.conf"

# What every machine of this workplace has besides its packages: the certificate authorities its
# network is reached through, the variables that point clients at them, and npm's global settings.
# (A fresh machine has these too; without them npm cannot reach the registry.)
pass_env=()
for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE GIT_SSL_CAINFO REQUESTS_CA_BUNDLE \
  PIP_CERT http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  if [ -n "${!v:-}" ]; then pass_env+=("$v=${!v}"); fi
done
in_tree() {
  chroot "$tree" env -i HOME=/root LANG=C.UTF-8 "${pass_env[@]}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
in_tree apt-get update -q
in_tree apt-get install -y -q --no-install-recommends python3 g++ make git ca-certificates
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$tree/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$tree/usr/local/share/ca-certificates/"
  in_tree update-ca-certificates >/dev/null
fi

# Node 20 and npm as this host has them (a CI machine's are given, not installed by the project):
# every file of its nodejs package when it has one (binary, npm, and the headers node-gyp builds
# native modules against), else the binary and npm; and the npm settings of the machine and of root.
if dpkg -s nodejs >/dev/null 2>&1 && dpkg -L nodejs | grep -x "$node_bin" >/dev/null; then
  # npm as it is now (it may have been updated in place since the package put it there).
  dpkg -L nodejs | grep -v '^/usr/lib/node_modules/' | while IFS= read -r f; do
    if [ -f "$f" ] || [ -L "$f" ]; then
      mkdir -p "$tree$(dirname "$f")"
      cp -a "$f" "$tree$f"
    fi
  done
  mkdir -p "$tree/usr/lib/node_modules"
  for d in /usr/lib/node_modules/npm /usr/lib/node_modules/corepack; do
    if [ -d "$d" ]; then cp -a "$d" "$tree/usr/lib/node_modules/"; fi
  done
else
  install -m 755 "$node_bin" "$tree/usr/local/bin/node"
  rm -rf "$tree/usr/local/lib/node_modules/npm"
  mkdir -p "$tree/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$tree/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$tree/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$tree/usr/local/bin/npx"
fi
for f in /etc/npmrc "$(npm config get globalconfig 2>/dev/null || true)" /root/.npmrc; do
  if [ -n "$f" ] && [ -f "$f" ]; then
    mkdir -p "$tree$(dirname "$f")"
    cp "$f" "$tree$f"
  fi
done

rm -rf "$tree/srv/ci"
mkdir -p "$tree/srv/ci"
git clone -q "$repo" "$tree/srv/ci/main"
cp -r "$shared" "$tree/srv/ci/shared"

echo "fresh-machine: running .ci/run in $tree (log: $tree/srv/ci/run.log)"
set +e
in_tree env CI=true bash -c 'cd /srv/ci/main && bash .ci/run' 2>&1 | tee "$tree/srv/ci/run.log"
status=${PIPESTATUS[0]}
set -e
echo "fresh-machine: .ci/run exited $status"
exit "$status"
