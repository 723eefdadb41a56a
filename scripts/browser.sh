#!/usr/bin/env bash
# The headless Chromium the dashboard tests and benchmark drive (Debian's package; Playwright's
# own browser download does not work here; the Python package playwright comes with the
# project's test extras). Installs it when missing (needs root). With CI=true a missing
# browser fails the run; otherwise its tests are skipped.
#   scripts/browser.sh --list   print what it provides, one "command NAME" a line
set -uo pipefail
COMMANDS="chromium"
if [ "${1:-}" = "--list" ]; then for c in $COMMANDS; do echo "command $c"; done; exit 0; fi
have_all() { for c in $COMMANDS; do command -v "$c" >/dev/null || return 1; done; }
if have_all; then exit 0; fi
if [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  if have_all; then exit 0; fi
fi
echo "chromium is not installed and cannot be installed here" >&2
if [ "${CI:-}" = "true" ]; then exit 1; fi
echo "the dashboard tests will be skipped (with CI=true they fail)" >&2
exit 0
