#!/usr/bin/env bash
# Start `jobmon up`, run the quickstart workflow against it, then keep serving until Ctrl-C.
set -euo pipefail
port=${1:-8070}
bin=.venv/bin
url="http://127.0.0.1:$port"

"$bin/jobmon" up --port "$port" --log-level warning &
server=$!
# Ctrl-C reaches `jobmon up` too (same process group), which then stops on its own:
# wait for it. On any other exit, stop it.
cleanup() {
  if kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'wait "$server" 2>/dev/null || true; exit 130' INT

"$bin/python" - "$url" <<'PY'
import sys, time, httpx
url = sys.argv[1] + "/health"
deadline = time.monotonic() + 60
while True:
    try:
        if httpx.get(url, timeout=2).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    if time.monotonic() > deadline:
        sys.exit(f"jobmon up did not answer at {url}")
    time.sleep(0.2)
PY

JOBMON_SERVER_URL="$url" "$bin/python" examples/quickstart.py
echo
echo "Dashboard: $url/   GraphQL playground: $url/graphql   (Ctrl-C stops Jobmon)"
wait "$server"
