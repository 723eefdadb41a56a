"""Phase 1 of the three-phase example: one input shard per location."""

import argparse
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--location_set_id", type=int, required=True)
parser.add_argument("--root_data_dir", required=True)
parser.add_argument("--log_level", default="INFO")
args = parser.parse_args()
out = Path(args.root_data_dir) / "jobmon_quickstart_example"
out.mkdir(parents=True, exist_ok=True)
for location in range(args.location_set_id):
    (out / f"data_shard_{location}.txt").write_text(f"location {location}\n")
