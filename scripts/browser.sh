#!/usr/bin/env bash
# The headless Chromium the dashboard tests drive (Debian's package; Playwright's own browser
# download does not work here). Installs it when missing (needs root). With CI=true a
# missing browser fails the run; otherwise its tests are skipped.
set -uo pipefail
if command -v chromium >/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null && exit 0
fi
echo "chromium is not installed and cannot be installed here" >&2
if [ "${CI:-}" = "true" ]; then exit 1; fi
echo "the dashboard tests will be skipped (with CI=true they fail)" >&2
exit 0
