"""Sum the per-location results in the output directory into total.txt."""

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    parts = sorted(args.out.glob("location_*.txt"))
    total = sum(int(part.read_text()) for part in parts)
    (args.out / "total.txt").write_text(f"{total}\n")
    print(f"{len(parts)} locations, total {total}")


if __name__ == "__main__":
    main()
