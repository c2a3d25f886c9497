#!/usr/bin/env bash
# Installs what phonehome needs, once: Debian packages for the real tools it drives, the npm
# dependencies, and the compiled CLI. Quick when everything is already there.
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

# binary -> Debian package providing it
declare -A NEED=(
  [adb]=adb
  [tcpdump]=tcpdump
  [tshark]=tshark
  [dnsmasq]=dnsmasq-base
  [nginx]=nginx-light
  [dig]=dnsutils
  [chromium]=chromium
  [ip]=iproute2
  [curl]=curl
  [openssl]=openssl
  [java]=default-jre-headless
  # busybox's DHCP client: the lan-join fixture's (scripts/fixtures/make-lab-captures.sh) Wi-Fi join
  [udhcpc]=udhcpc
  # the simulated phone's ping and the fixture scripts
  [ping]=iputils-ping
  # TLS interception (intercept: mitmproxy): mitmdump, and the firewall rules that send a phone to it
  [mitmdump]=mitmproxy
  [iptables]=iptables
)
# headers that npm packages compile against (the `cap` libpcap binding)
declare -A NEED_FILES=(
  [/usr/include/pcap/pcap.h]=libpcap-dev
)

missing=()
for bin in "${!NEED[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("${NEED[$bin]}")
done
for f in "${!NEED_FILES[@]}"; do
  [ -e "$f" ] || missing+=("${NEED_FILES[$f]}")
done

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
      echo "setup: need root (or sudo) to install ${missing[*]}" >&2
      exit 2
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies at the versions package-lock.json records, again only when it changed since the
# last install. `npm ci` installs exactly the lock file and never rewrites it, so setup leaves the
# checkout as it found it (the lock file lists every platform's optional builds, Biome's among them).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (locked versions)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Appium's drivers (UiAutomator2, and the fake driver for tests) in the project's own APPIUM_HOME.
scripts/appium-setup.sh

if [ "${1:-}" != "--no-build" ]; then
  npx --no-install tsc -p tsconfig.json
fi
