"""Phase 3: one summary of every location's result."""

import argparse
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--root_data_dir", required=True)
parser.add_argument("--log_level", default="INFO")
args = parser.parse_args()
out = Path(args.root_data_dir) / "jobmon_quickstart_example"
results = sorted(out.glob("location_result_*.txt"))
(out / "summaries.txt").write_text("".join(p.read_text() for p in results))
