"""Process one location for one year: write a small result file to the output directory."""

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--location", type=int, required=True)
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    value = (args.location * 37 + args.year) % 101
    (args.out / f"location_{args.location}.txt").write_text(f"{value}\n")
    print(f"location {args.location}, year {args.year}: {value}")


if __name__ == "__main__":
    main()
