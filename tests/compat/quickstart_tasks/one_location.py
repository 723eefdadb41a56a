"""Phase 2: one location's result, from its shard."""

import argparse
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--location_id", type=int, required=True)
parser.add_argument("--root_data_dir", required=True)
parser.add_argument("--log_level", default="INFO")
args = parser.parse_args()
out = Path(args.root_data_dir) / "jobmon_quickstart_example"
shard = (out / f"data_shard_{args.location_id}.txt").read_text()
(out / f"location_result_{args.location_id}.txt").write_text(shard.upper())
