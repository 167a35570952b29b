#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine: the
# Debian packages the lab and the tests use (when run as root with apt-get),
# then the npm packages from the lock file (which also builds the wasm
# module, the native TUN addon and the host).
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests and `mape lab` run: tshark and tcpdump capture and check;
# iproute2 builds namespaces; the lab's real clients and servers; wabt
# (wasm2c) and the cross compilers build the router program from the module,
# qemu-user-static runs its non-x86 builds; clang + libFuzzer fuzz the
# translated module, valgrind counts instructions for the benchmark;
# shellcheck checks the OpenWrt handler; natpmpc / upnpc are real port-mapping
# clients; openssl makes the lab's certificates; libxdp-dev and libbpf-dev
# build the AF_XDP-against-TUN bench (bench/xdpio.c).
PACKAGES=(
  tshark tcpdump iproute2 iputils-ping traceroute curl bind9-dnsutils dnsmasq-base
  vsftpd busybox iperf3 coturn stun-client stun-server nftables ethtool
  python3 make g++ openssl
  wabt gcc-mipsel-linux-gnu gcc-mips-linux-gnu gcc-aarch64-linux-gnu
  libc6-dev-mipsel-cross libc6-dev-mips-cross libc6-dev-arm64-cross qemu-user-static
  clang libclang-rt-14-dev valgrind shellcheck natpmpc miniupnpc
  musl-tools libxdp-dev libbpf-dev
)

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  echo "setup: not root (or no apt-get): skipping Debian packages (${PACKAGES[*]})" >&2
fi

# Under `npm run setup`, PATH starts with node_modules/.bin, which holds an
# old npm (6.x) that as-pect's dependencies bring along; its `npm ci` fails
# on an existing node_modules. Use the machine's npm.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/node_modules/\.bin$' | paste -sd: -)
npm ci --no-audit --no-fund
