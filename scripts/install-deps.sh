#!/usr/bin/env bash
# install-deps.sh: install the Debian packages opsgraph needs to build and test.
# Idempotent and non-interactive: asks dpkg which packages are missing and installs
# only those, so a second run costs well under a second. Uses sudo only when not root.
#   scripts/install-deps.sh            build + unit/Lua tests
#   scripts/install-deps.sh --browser  also chromium (browser tests)
#   scripts/install-deps.sh --services the same (prometheus-alertmanager is always installed now)
# prometheus (with promtool) is always installed: tests/cli/collector_prometheus.sh
# runs the context collector against a real one; so is prometheus-alertmanager,
# which tests/cli/serve_alertmanager.sh delivers alerts through, and wrk, the
# load generator of bench/serve.sh.
set -euo pipefail

PKGS=(gcc make pkg-config clang llvm
      liblua5.4-dev libcjson-dev liblmdb-dev libevent-dev libcurl4-openssl-dev libjemalloc-dev
      libbpf-dev libelf-dev zlib1g-dev bpftool libssl-dev lmdb-utils xxd
      python3    # python3: the test servers and JSON checks of tests/cli
      iproute2 util-linux curl   # ip/tc (the lossy veth), setpriv and curl of tests/cli/hostsig.sh
      prometheus   # prometheus + promtool: tests/cli/collector_prometheus.sh
      prometheus-alertmanager wrk)  # tests/cli/serve_alertmanager.sh, bench/serve.sh
for arg in "$@"; do
	case "$arg" in
	--browser)
		PKGS+=(chromium)
		# nodejs/npm: Debian's, unless a node with its own npm (NodeSource's
		# nodejs bundles npm and conflicts with Debian's npm) is already there
		command -v node >/dev/null || PKGS+=(nodejs)
		command -v npm >/dev/null || PKGS+=(npm) ;;
	--services) PKGS+=(prometheus-alertmanager) ;;
	*) echo "install-deps.sh: unknown option '$arg' (use --browser or --services)" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${PKGS[@]}"; do
	# dpkg-query prints "install ok installed" only for a fully installed package
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	SUDO="sudo"
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq

# prometheus and prometheus-alertmanager are daemons in Debian: on a machine
# booted with systemd their postinst would start them on :9090 and :9093 on
# every interface and enable them at boot. The tests start their own on
# 127.0.0.1 and free ports, so the packages are installed for their binaries
# only: a policy-rc.d that answers 101 ("action forbidden") keeps invoke-rc.d
# and deb-systemd-invoke from starting anything during this install, and the
# units installed now are disabled. A policy-rc.d the machine already had is
# left alone (it already decides).
daemons=()
for p in "${missing[@]}"; do
	case "$p" in prometheus|prometheus-alertmanager) daemons+=("$p") ;; esac
done
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ${#daemons[@]} -gt 0 ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# written by opsgraph scripts/install-deps.sh for the length of one apt-get install\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	own_policy=1
	trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ ${#daemons[@]} -gt 0 ] && [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now "${daemons[@]}" >/dev/null 2>&1 || true
fi
[ "$own_policy" -eq 1 ] && $SUDO rm -f "$policy"
exit 0
