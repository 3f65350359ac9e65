#!/usr/bin/env bash
# System packages the test suite needs on a fresh Debian machine: Chromium, which the
# web page's end-to-end test drives headless, and desktop-file-utils, whose
# desktop-file-validate checks the .desktop file we install. Idempotent; needs root
# (or sudo) when something is missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v desktop-file-validate >/dev/null 2>&1 || missing+=(desktop-file-utils)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq
$as_root apt-get install -y -qq "${missing[@]}" >/dev/null
