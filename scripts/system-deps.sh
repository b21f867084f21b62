#!/usr/bin/env bash
# Debian packages Onestop needs to build and test. Installs what is missing when run as root;
# otherwise names what is missing and goes on (the tests that need it will say so).
set -euo pipefail

packages=(
  python3 python3-venv python3-dev gcc linux-libc-dev  # venv, and evdev builds from source
  sqlite3                                               # inspecting the store by hand
  socat                                                 # serial pseudo-terminals for device tests
  chromium fonts-noto-cjk                               # call screens: browser tests, Chinese glyphs
  libnss3-tools                                         # certutil: the hall CA in Chromium's NSS db
  libzbar0 zbar-tools                                   # decoding printed QR codes in tests
  espeak-ng libespeak-ng1 sox alsa-utils                # voice calling: synthesis, checks, playback
  postgresql redis-server                               # scale-out tests: throwaway servers on loopback
  nginx                                                 # scale-out tests: the shipped nginx config, run
  systemd                                               # systemd-analyze verify: the units' tests
  faketime                                              # make test: the date tests on a faked date
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# eslint for the pages' JavaScript (make lint, make test) runs on Node.js >= 18.18 (Debian 12 has
# 18.20). Any Node.js will do: NodeSource's bundles npm and conflicts with Debian's npm package,
# so look for the commands, not the packages.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "missing Debian packages (run as root, or: sudo apt-get install ${missing[*]})" >&2
fi
