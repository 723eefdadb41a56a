#!/usr/bin/env bash
# R and the packages the R client and its tests need (Debian's packages; CRAN is not
# reachable here). The packages are those of client/R/jobmonr/DESCRIPTION (Imports and
# Suggests), so that what the package declares is what this script installs; Debian names
# them r-cran-<name in lower case>. Installs what is missing (needs root). With CI=true a
# missing R or package fails the run; otherwise the R client's tests are skipped.
#   scripts/r.sh          check, and install what is missing
#   scripts/r.sh --list   print what it provides: "command R", "command Rscript" and
#                         "r-package NAME" for each package it checks
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
description="$here/../client/R/jobmonr/DESCRIPTION"

# The package names of the Imports and Suggests fields (continuation lines included),
# without version requirements.
packages() {
  awk '
    /^[A-Za-z@\/]+:/ { field = $1; sub(/:.*/, "", field); $0 = substr($0, index($0, ":") + 1) }
    field == "Imports" || field == "Suggests" { print }
  ' "$description" | tr ',' '\n' | sed -E 's/\(.*\)//; s/[[:space:]]//g' | grep -v '^$' | grep -vx R
}

if [ "${1:-}" = "--list" ]; then
  printf 'command %s\n' R Rscript
  packages | sed 's/^/r-package /'
  exit 0
fi

wanted="$(packages | tr '\n' ' ')"
missing() {
  command -v Rscript >/dev/null || { echo "$wanted"; return; }
  Rscript -e 'for (p in commandArgs(TRUE)) if (!requireNamespace(p, quietly = TRUE)) cat(p, "")' \
    $wanted 2>/dev/null
}

absent="$(missing)"
if [ -z "$absent" ]; then exit 0; fi
if [ "$(id -u)" = 0 ]; then
  debs="r-base-core"
  for p in $absent; do debs="$debs r-cran-$(echo "$p" | tr '[:upper:]' '[:lower:]')"; done
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $debs >/dev/null
  absent="$(missing)"
  if [ -z "$absent" ]; then exit 0; fi
fi
echo "R packages missing and not installable here: $absent (wanted: $wanted)" >&2
if [ "${CI:-}" = "true" ]; then exit 1; fi
echo "the R client's tests will be skipped (with CI=true they fail)" >&2
exit 0
