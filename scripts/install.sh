#!/usr/bin/env bash
# Installs what Berth needs on Debian 12 (run as root): the runtime tools, the comparison
# dockerd for the benchmarks, the npm packages, the build, and `berth`/`berthd` on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

# make, g++ and python3 build the native parts (better-sqlite3, native/berth_sys.c) in `npm ci`.
packages=(runc conmon iptables iproute2 procps busybox-static tini catatonit attr
  docker.io hyperfine ca-certificates make g++ python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The Debian docker.io package starts its own dockerd; Berth only uses it for side-by-side
# benchmarks, with its own roots and socket, so keep the system one off.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker 2>/dev/null; then
  systemctl disable --now docker docker.socket >/dev/null 2>&1 || true
fi

npm ci --no-fund --no-audit
npm run build
npm link --no-fund --no-audit >/dev/null
echo "berth installed: $(command -v berth), $(command -v berthd)"
