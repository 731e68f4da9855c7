"""Build the demonstration dataset into the working store: `python -m mapdata.build [--out PATH] [--seed N]`."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mapdata.config import Settings


def main(argv: list[str] | None = None) -> int:
    from mapdata.demo.build import build

    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=settings.db_path, help="GeoPackage to write (default: NUANXIN_DB)")
    parser.add_argument("--seed", type=int, default=settings.demo_seed)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = build(args.out, args.seed)
    print(f"built {args.out} (seed {args.seed}) in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
