#!/usr/bin/env bash
# Installs what building, testing and demoing agenttrace needs on Debian (12 or later).
# apt-get as root, sudo apt-get otherwise; on other systems it names the packages and stops.
set -euo pipefail

# Build tools and libraries, then the real programs the end-to-end tests record.
packages=(
	build-essential meson ninja-build pkg-config
	libzstd-dev libjansson-dev nettle-dev libcurl4-openssl-dev libcriterion-dev libssl-dev
	python3 coreutils bash curl openssl ca-certificates sqlite3 clang-format
	gdb
)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
	for p in "${packages[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || missing+=("$p")
	done
else
	echo "agenttrace setup: this is not a Debian system (no dpkg-query)." >&2
	echo "Install these packages (or your system's equivalents) and run again:" >&2
	echo "  ${packages[*]}" >&2
	exit 1
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	apt=(apt-get)
elif command -v sudo >/dev/null 2>&1; then
	apt=(sudo apt-get)
else
	echo "agenttrace setup: missing packages: ${missing[*]}" >&2
	echo "Not root and no sudo: install them as root with 'apt-get install ${missing[*]}'." >&2
	exit 1
fi

echo "agenttrace setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; refresh them only if the first try fails.
if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; then
	"${apt[@]}" update
	"${apt[@]}" install -y --no-install-recommends "${missing[@]}"
fi
