#!/usr/bin/env bash
# Installs the Appium drivers phonehome uses into the project's own APPIUM_HOME (.appium, git-ignored):
# UiAutomator2 for phones, and the fake driver for the Appium tests. Lays out a tiny Android SDK
# folder around Debian's adb (the driver finds adb only under $ANDROID_HOME). Quick when all is there.
# Usage: scripts/appium-setup.sh            (APPIUM_HOME may be set to use another folder)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export APPIUM_HOME="${APPIUM_HOME:-$ROOT/.appium}"
UIA2_VERSION=8.7.0
APPIUM=("$(command -v node)" "$ROOT/node_modules/appium/index.js")
MANIFEST="$APPIUM_HOME/node_modules/.cache/appium/extensions.yaml"

if [ ! -f "$ROOT/node_modules/appium/index.js" ]; then
  echo "appium-setup: node_modules/appium is missing; run npm ci first" >&2
  exit 2
fi
mkdir -p "$APPIUM_HOME"

pkg_version() { # prints the version in a package.json, or nothing
  [ -f "$1" ] && node -e 'process.stdout.write(String(require(process.argv[1]).version ?? ""))' "$1" || true
}
in_manifest() { # driver name listed in Appium's manifest
  [ -f "$MANIFEST" ] && grep -Eq "^  $1:\$" "$MANIFEST"
}

# UiAutomator2 at the pinned version. An install at another version is replaced.
uia2_pkg="$APPIUM_HOME/node_modules/appium-uiautomator2-driver/package.json"
if ! in_manifest uiautomator2 || [ "$(pkg_version "$uia2_pkg")" != "$UIA2_VERSION" ]; then
  if in_manifest uiautomator2; then
    echo "appium-setup: replacing uiautomator2 $(pkg_version "$uia2_pkg") with $UIA2_VERSION"
    "${APPIUM[@]}" driver uninstall uiautomator2 >/dev/null
  fi
  echo "appium-setup: installing the uiautomator2 driver $UIA2_VERSION into $APPIUM_HOME"
  "${APPIUM[@]}" driver install "uiautomator2@$UIA2_VERSION"
fi

# The fake driver for tests, linked from the project's own devDependency (no download; --source=local
# wants an absolute path, npm resolves a relative one against APPIUM_HOME).
fake_src="$ROOT/node_modules/@appium/fake-driver"
if [ -d "$fake_src" ] && { ! in_manifest fake || [ ! -f "$APPIUM_HOME/node_modules/@appium/fake-driver/package.json" ]; }; then
  if in_manifest fake; then "${APPIUM[@]}" driver uninstall fake >/dev/null || true; fi
  echo "appium-setup: linking the fake driver (tests) into $APPIUM_HOME"
  "${APPIUM[@]}" driver install --source=local "$fake_src"
fi

# $ANDROID_HOME for the driver: platform-tools/adb -> the adb phonehome uses.
adb_bin="${PHONEHOME_ADB:-$(command -v adb || true)}"
if [ -n "$adb_bin" ]; then
  adb_bin=$(readlink -f "$(command -v "$adb_bin")")
  mkdir -p "$APPIUM_HOME/android-sdk/platform-tools"
  link="$APPIUM_HOME/android-sdk/platform-tools/adb"
  if [ "$(readlink "$link" 2>/dev/null)" != "$adb_bin" ]; then
    ln -sfn "$adb_bin" "$link"
  fi
else
  echo "appium-setup: adb not found (Debian package adb); UiAutomator2 sessions need it" >&2
fi
