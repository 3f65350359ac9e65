#!/usr/bin/env bash
# System packages the test suite needs on a fresh Debian machine: Chromium, which the
# web page's end-to-end test drives headless. Idempotent; needs root (or sudo).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq
$as_root apt-get install -y -qq chromium >/dev/null
