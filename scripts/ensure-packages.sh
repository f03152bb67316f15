#!/usr/bin/env bash
# Install the Debian packages whose programs are missing.
#   scripts/ensure-packages.sh PACKAGE:PROGRAM ...
# PROGRAM is a command name or an absolute path; "PACKAGE:" alone always installs PACKAGE.
# Uses apt-get as root (or with password-less sudo); otherwise names what to install and fails.
set -euo pipefail

missing=()
for pair in "$@"; do
  pkg=${pair%%:*} prog=${pair#*:}
  if [[ -z $prog ]] || ! { command -v "$prog" >/dev/null 2>&1 || [[ -x $prog ]]; }; then
    missing+=("$pkg")
  fi
done
((${#missing[@]})) || exit 0

if [[ $(id -u) == 0 ]]; then sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo)
else sudo=(false)
fi

echo "==> installing ${missing[*]}"
if command -v apt-get >/dev/null && [[ ${sudo[0]:-} != false ]]; then
  "${sudo[@]}" apt-get update -qq || true
  if "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
      "${missing[@]}" >/dev/null; then
    exit 0
  fi
fi
echo "Missing: ${missing[*]}. Install them (on Debian or Ubuntu: sudo apt-get install ${missing[*]}) and run the command again." >&2
exit 1
