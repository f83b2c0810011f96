#!/usr/bin/env bash
# Installs the system packages the tests need (Chromium for browser tests, PostgreSQL
# for the concurrency tests, Redis for the multi-instance tests) when they are missing. Needs root or sudo.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# Redis for the multi-instance tests and the benchmark (Rasa's lock store, the service's event hub).
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Chinese glyphs for the browser tests' screenshots.
ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[deps] installing ${missing[*]} ..."
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
