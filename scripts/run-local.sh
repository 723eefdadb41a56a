#!/usr/bin/env bash
# Start `jobmon up`, run the quickstart workflow against it, then keep serving until Ctrl-C.
set -euo pipefail
port=${1:-8070}
bin=.venv/bin
url="http://127.0.0.1:$port"

"$bin/jobmon" up --port "$port" --log-level warning &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT INT TERM

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
echo "GraphQL playground: $url/graphql   (Ctrl-C stops Jobmon)"
wait "$server"
