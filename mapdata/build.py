"""Build the demonstration dataset into the working store: `python -m mapdata.build [--out PATH] [--seed N]
[--osm FILE]` (FILE: an OpenStreetMap extract, .osm or .osm.pbf, for the roads and the riding network)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mapdata.config import Settings
from mapdata.osm_extract import OsmExtractError, read_roads
from mapdata.schemas import SPECS
from mapdata.store import open_store
from mapdata.store.sql import redacted


def main(argv: list[str] | None = None) -> int:
    from mapdata.demo.build import build

    settings = Settings.from_env()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(settings.db_path),
                        help="the store to write: a GeoPackage path or a postgresql:// URL (default: NUANXIN_DB)")
    parser.add_argument("--seed", type=int, default=settings.demo_seed)
    parser.add_argument("--osm", type=Path, metavar="FILE",
                        help="an OpenStreetMap extract (.osm XML or .osm.pbf) whose highways replace the bundled "
                             "extract's roads (base map and riding network); checked first, nothing is written when "
                             "it is not usable")
    parser.add_argument("--if-missing", action="store_true",
                        help="build only when the file is missing, or is a demo dataset without a layer this "
                             "release needs; never replace other data")
    args = parser.parse_args(argv)
    store = open_store(args.out)
    if args.if_missing and store.exists():
        missing = [name for name in SPECS if name not in store.layers()]
        if not missing:
            return 0
        if not store.info().demo:
            print(f"{args.out} lacks the layers {', '.join(missing)} and is not demonstration data: "
                  "it is left as it is", file=sys.stderr)
            return 1
        print(f"{args.out} is a demo dataset from an older release (no {', '.join(missing)}): rebuilding it")
    started = time.perf_counter()
    roads = None
    if args.osm is not None:
        try:
            roads = osm_roads(args.osm)
        except OsmExtractError as exc:
            print(f"--osm {exc}; nothing was written", file=sys.stderr)
            return 2
        print(f"roads from {args.osm}: {len(roads)} ways")
    counts = build(store, args.seed, roads=roads, roads_source=args.osm.name if args.osm else None)
    print(f"built {redacted(args.out)} (seed {args.seed}) in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def osm_roads(path: Path):
    """The roads layer from the extract at ``path``, only what lies in Chengdu (see :mod:`mapdata.osm_extract`)."""
    import shapely

    from mapdata.demo.districts import load_districts

    return read_roads(path, outline=shapely.union_all(load_districts().geometry.values))


if __name__ == "__main__":
    sys.exit(main())
