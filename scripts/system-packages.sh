#!/usr/bin/env bash
# Installs the Debian packages the suites need, only when missing.
set -euo pipefail
needed=()
have() { command -v "$1" >/dev/null 2>&1; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || needed+=(postgresql)
have redis-server || needed+=(redis-server)
have chromium || needed+=(chromium)
have firefox-esr || needed+=(firefox-esr)
have dbus-run-session || needed+=(dbus)
# Debian's own python3 (not a pyenv one) runs the fake notification server.
/usr/bin/python3 -c 'import dbus, gi' 2>/dev/null || needed+=(python3-dbus python3-gi)
# Headless Firefox shows notifications only through libnotify (a Recommends, not a Depends).
ldconfig -p | grep -q 'libnotify.so.4' || needed+=(libnotify4)
# The TLS loopback push and APNs stand-ins make their self-signed certificates with openssl.
have openssl || needed+=(openssl)
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing from Debian's archive: ${needed[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi
