"""Generate the demonstration demand layer: where riders are needed, from census population and real OSM places.

Real rider orders are not public (``mapdata/sources/README.md``), so the app ships this generated
layer, labelled "demonstration data". Each point stands for delivery orders per day touching that
place; ``weight`` is that number. How it is made:

* **The total.** Every district generates ``population × ORDERS_PER_PERSON_DAY`` orders a day
  (2020 census; :data:`ORDERS_PER_PERSON_DAY` = 0.05, about one million orders a day city-wide,
  the order of magnitude of food delivery in a city of 21 million). This is a model parameter,
  not a measurement.
* **Residential points, everywhere.** The ``n`` points are first shared among the 20 districts
  in proportion to population (largest remainders, ties by adcode); they share their district's
  orders in proportion to log-normal factors (σ = 0.3), so that points differ as neighbourhoods
  do while each district's total stays exact. A district's urban share of the points (census ``urban_share``) is drawn
  around its towns (:data:`mapdata.demo.stations.URBAN_CENTRES`, the same centres the demo
  stations use), normally with a spread that grows with the town's population
  (:func:`urban_spread_km`); the five core districts, urban throughout, uniformly over their
  land. The rural share is spread uniformly over the district. Every point is re-drawn until it
  lies inside its district.
* **The centre, at real places.** Inside the OpenStreetMap extract
  (:data:`mapdata.demo.stations.OSM_EXTENT`; © OpenStreetMap contributors, ODbL) the residential
  points drawn there are replaced by as many points at real places, carrying the same total
  weight: half are ``pickup`` points at restaurants, cafés, shops, supermarkets, markets and
  malls (:func:`osm_pickup_places`), chosen in proportion to :data:`PICKUP_ATTRACTION` and
  jittered by :data:`PICKUP_JITTER_M`; half are ``dropoff`` points drawn uniformly inside the
  named residential compounds (:func:`osm_compounds`), chosen in proportion to their area.

The same ``rng`` state gives the same rows (coordinates rounded to 7 decimals); nothing depends
on the clock or on dict or set order. All points lie inside Chengdu, in EPSG:4326.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata.crs import METRIC_EPSG
from mapdata.demo.osm import parse_other_tags, read_layer
from mapdata.demo.stations import OSM_EXTENT, URBAN_CENTRES

ORDERS_PER_PERSON_DAY = 0.05
WEIGHT_SIGMA = 0.3
COORD_DECIMALS = 7
#: Relative pull of a pickup place: a mall holds dozens of kitchens, a market many stalls.
PICKUP_ATTRACTION = {"mall": 8.0, "marketplace": 4.0, "supermarket": 3.0, "food": 2.0, "shop": 1.0}
_FOOD = frozenset({"restaurant", "fast_food", "cafe", "food_court", "bar", "pub", "ice_cream", "biergarten"})
_MALL_SHOPS = frozenset({"mall", "department_store"})
#: Riders wait at the door or the kitchen window, not at the OSM node: a normal spread this wide.
PICKUP_JITTER_M = 30.0
_M_PER_DEG = 111_320.0
_MAX_DRAWS = 200


def urban_spread_km(population: float, urban_share: float) -> float:
    """Spread (standard deviation, km) of urban demand around a town centre: √(urban population) / 250, 1.5–6 km."""
    return float(np.clip(np.sqrt(population * urban_share) / 250.0, 1.5, 6.0))


def _largest_remainder(weights: np.ndarray, n: int, tie_key: np.ndarray) -> np.ndarray:
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    order = np.lexsort((tie_key, -(exact - counts)))
    counts[order[: n - int(counts.sum())]] += 1
    return counts


def _round(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float), COORD_DECIMALS)


def osm_pickup_places() -> gpd.GeoDataFrame:
    """Places in the OSM extract where riders pick orders up.

    Returns
    -------
    GeoDataFrame
        ``osm_id`` (``node/…``, ``way/…``, ``relation/…``), ``name`` (None when unnamed),
        ``kind`` (a key of :data:`PICKUP_ATTRACTION`) and a Point ``geometry`` (areas at a point
        inside them), EPSG:4326, sorted by ``osm_id``.
    """
    pts = read_layer("points")
    tags = parse_other_tags(pts["other_tags"])
    kinds = []
    for t in tags:
        amenity, shop = t.get("amenity"), t.get("shop")
        if shop in _MALL_SHOPS:
            kinds.append("mall")
        elif amenity == "marketplace":
            kinds.append("marketplace")
        elif shop in ("supermarket", "convenience"):
            kinds.append("supermarket")
        elif amenity in _FOOD:
            kinds.append("food")
        elif shop is not None and shop != "no":
            kinds.append("shop")
        else:
            kinds.append(None)
    point_rows = pd.DataFrame({"osm_id": "node/" + pts["osm_id"].astype(str), "name": pts["name"],
                               "kind": kinds, "geometry": pts.geometry.values})
    areas = read_layer("multipolygons")
    akind = np.full(len(areas), None, dtype=object)
    akind[areas["amenity"].isin(sorted(_FOOD)).to_numpy()] = "food"
    akind[areas["shop"].isin(["supermarket", "convenience"]).to_numpy()] = "supermarket"
    akind[areas["amenity"].eq("marketplace").to_numpy()] = "marketplace"
    akind[areas["shop"].isin(sorted(_MALL_SHOPS)).to_numpy()] = "mall"
    area_ids = np.where(areas["osm_id"].notna(), "relation/" + areas["osm_id"].astype(str),
                        "way/" + areas["osm_way_id"].astype(str))
    area_rows = pd.DataFrame({"osm_id": area_ids, "name": areas["name"], "kind": akind,
                              "geometry": shapely.point_on_surface(shapely.make_valid(areas.geometry.values))})
    rows = pd.concat([point_rows, area_rows], ignore_index=True)
    rows = rows[rows["kind"].notna()].sort_values("osm_id", kind="stable").reset_index(drop=True)
    rows["name"] = rows["name"].astype(object).where(rows["name"].notna(), None)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def places_layer(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The ``places`` layer: :func:`osm_pickup_places` inside Chengdu, with ids, coordinates rounded.

    The running app reads the planner's candidate places from this layer, never from the raw OSM file.
    """
    places = osm_pickup_places()
    x, y = _round(places.geometry.x), _round(places.geometry.y)
    inside = _district_of(districts, x, y) > 0
    places, x, y = places[inside].reset_index(drop=True), x[inside], y[inside]
    return gpd.GeoDataFrame({
        "id": [f"pl-{i:06d}" for i in range(1, len(places) + 1)],
        "osm_id": places["osm_id"].astype(object).to_numpy(),
        "name": places["name"].astype(object).to_numpy(),
        "kind": places["kind"].astype(object).to_numpy(),
    }, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")


def osm_compounds() -> gpd.GeoDataFrame:
    """Named residential compounds (``landuse=residential``) of the OSM extract.

    Returns
    -------
    GeoDataFrame
        ``osm_id``, ``name`` and a valid (Multi)Polygon ``geometry``, EPSG:4326, sorted by
        ``osm_id``.
    """
    areas = read_layer("multipolygons")
    names = areas["name"].astype(object).where(areas["name"].notna(), "").map(str.strip)
    res = areas[(areas["landuse"] == "residential") & (names != "")].copy()
    ids = np.where(res["osm_id"].notna(), "relation/" + res["osm_id"].astype(str),
                   "way/" + res["osm_way_id"].astype(str))
    geoms = shapely.make_valid(res.geometry.values)
    out = gpd.GeoDataFrame({"osm_id": ids, "name": names[res.index].to_numpy()}, geometry=geoms, crs="EPSG:4326")
    out = out[shapely.get_type_id(out.geometry.values) >= 3]  # make_valid may leave a line
    return out.sort_values("osm_id", kind="stable").reset_index(drop=True)


def _district_of(districts: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The adcode of the district polygon containing each point, 0 if none."""
    out = np.zeros(len(lon), dtype=np.int64)
    for geom, adcode in zip(districts.geometry.values, districts["adcode"].to_numpy(np.int64)):
        todo = np.flatnonzero(out == 0)
        if len(todo) == 0:
            break
        out[todo[shapely.contains_xy(geom, lon[todo], lat[todo])]] = adcode
    return out


def _in_district(d, k: int, rng: np.random.Generator, draw) -> tuple[np.ndarray, np.ndarray]:
    """``k`` points from ``draw(batch) -> (lon, lat)``, kept when inside district row ``d``."""
    polygon = d.geometry
    shapely.prepare(polygon)
    lons, lats, have = [], [], 0
    for _ in range(_MAX_DRAWS):
        if have >= k:
            break
        lon, lat = draw(max(64, 2 * (k - have)))
        lon, lat = _round(lon), _round(lat)
        ok = shapely.contains_xy(polygon, lon, lat)
        lons.append(lon[ok])
        lats.append(lat[ok])
        have += int(ok.sum())
    else:
        if have < k:
            raise RuntimeError(f"could not place {k} demand points in {d['name']}")
    return np.concatenate(lons)[:k], np.concatenate(lats)[:k]


def _residential(d, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = d.geometry.bounds
    centres = [c for c in URBAN_CENTRES if c.district == d["name"]]
    k_urban = int(round(k * float(d["urban_share"])))

    def uniform(batch):
        return rng.uniform(x0, x1, batch), rng.uniform(y0, y1, batch)

    if centres and k_urban:
        w = np.array([c.weight for c in centres])
        clon = np.array([c.lon for c in centres])
        clat = np.array([c.lat for c in centres])
        sigma_deg = urban_spread_km(d["population"], d["urban_share"]) * 1000.0 / _M_PER_DEG

        def around_towns(batch):
            which = rng.choice(len(centres), size=batch, p=w / w.sum())
            lat = clat[which] + rng.normal(0.0, sigma_deg, batch)
            lon = clon[which] + rng.normal(0.0, sigma_deg, batch) / np.cos(np.radians(clat[which]))
            return lon, lat

        urban = _in_district(d, k_urban, rng, around_towns)
        rural = _in_district(d, k - k_urban, rng, uniform)
        return np.concatenate([urban[0], rural[0]]), np.concatenate([urban[1], rural[1]])
    # the core districts are urban throughout: anywhere on their land
    return _in_district(d, k, rng, uniform)


def _pickups(places: gpd.GeoDataFrame, k: int, rng: np.random.Generator, districts) -> tuple:
    attraction = places["kind"].map(PICKUP_ATTRACTION).to_numpy(dtype=float)
    plon, plat = shapely.get_x(places.geometry.values), shapely.get_y(places.geometry.values)
    lons, lats, have = [], [], 0
    for _ in range(_MAX_DRAWS):
        if have >= k:
            break
        batch = 2 * (k - have)
        which = rng.choice(len(places), size=batch, p=attraction / attraction.sum())
        lat = plat[which] + rng.normal(0.0, PICKUP_JITTER_M / _M_PER_DEG, batch)
        lon = plon[which] + rng.normal(0.0, PICKUP_JITTER_M / _M_PER_DEG, batch) / np.cos(np.radians(plat[which]))
        lon, lat = _round(lon), _round(lat)
        ok = _district_of(districts, lon, lat) > 0
        lons.append(lon[ok])
        lats.append(lat[ok])
        have += int(ok.sum())
    return np.concatenate(lons)[:k], np.concatenate(lats)[:k]


def _dropoffs(compounds: gpd.GeoDataFrame, k: int, rng: np.random.Generator) -> tuple:
    area = compounds.geometry.to_crs(METRIC_EPSG).area.to_numpy()
    which = np.sort(rng.choice(len(compounds), size=k, p=area / area.sum()))
    lon = np.empty(k)
    lat = np.empty(k)
    polys = compounds.geometry.values.to_numpy()
    for c in np.unique(which):
        slots = np.flatnonzero(which == c)
        poly = polys[c]
        shapely.prepare(poly)
        x0, y0, x1, y1 = poly.bounds
        got_x, got_y, have = [], [], 0
        for _ in range(_MAX_DRAWS):
            if have >= len(slots):
                break
            x = _round(rng.uniform(x0, x1, 4 * len(slots)))
            y = _round(rng.uniform(y0, y1, 4 * len(slots)))
            ok = shapely.contains_xy(poly, x, y)
            got_x.append(x[ok])
            got_y.append(y[ok])
            have += int(ok.sum())
        if have < len(slots):
            # a sliver too thin to hit by chance: its representative point is inside by definition
            rep = shapely.point_on_surface(poly)
            got_x.append(np.full(len(slots), _round(rep.x)))
            got_y.append(np.full(len(slots), _round(rep.y)))
        lon[slots] = np.concatenate(got_x)[:len(slots)]
        lat[slots] = np.concatenate(got_y)[:len(slots)]
    return lon, lat


def _weights(rng: np.random.Generator, k: int) -> np.ndarray:
    """Mean-one log-normal factors."""
    return rng.lognormal(-0.5 * WEIGHT_SIGMA ** 2, WEIGHT_SIGMA, k)


def generate_demand(districts: gpd.GeoDataFrame, rng: np.random.Generator, n: int = 20_000) -> gpd.GeoDataFrame:
    """Generate the demonstration ``demand`` layer (see the module docstring for the model).

    Parameters
    ----------
    districts : GeoDataFrame
        The districts layer (:func:`mapdata.demo.districts.load_districts`), EPSG:4326, with
        ``adcode``, ``name``, ``population`` and ``urban_share``.
    rng : numpy.random.Generator
        The only source of randomness.
    n : int
        Number of points, at least 100.

    Returns
    -------
    GeoDataFrame
        Exactly ``n`` rows conforming to the ``demand`` schema: ``id`` (``dm-000001`` …),
        ``weight`` (orders a day, float), ``kind`` (``residential``, ``pickup`` or ``dropoff``),
        ``adcode`` (the district containing the point) and a Point ``geometry`` in EPSG:4326
        inside Chengdu. Residential points come first, by adcode, then pickups, then dropoffs.
    """
    if districts.crs is None or districts.crs.to_epsg() != 4326:
        raise ValueError(f"districts must be in EPSG:4326, got {districts.crs}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 100:
        raise ValueError(f"n must be an integer of at least 100, got {n!r}")
    d = districts.sort_values("adcode", kind="stable").reset_index(drop=True)
    population = d["population"].to_numpy(dtype=float)
    adcodes = d["adcode"].to_numpy(np.int64)
    counts = _largest_remainder(population, int(n), adcodes)
    lon_parts, lat_parts, w_parts, code_parts = [], [], [], []
    for i, k in enumerate(counts.tolist()):
        if k == 0:
            continue
        lon, lat = _residential(d.iloc[i], k, rng)
        lon_parts.append(lon)
        lat_parts.append(lat)
        factor = _weights(rng, k)
        w_parts.append(population[i] * ORDERS_PER_PERSON_DAY * factor / factor.sum())
        code_parts.append(np.full(k, adcodes[i], dtype=np.int64))
    lon, lat = np.concatenate(lon_parts), np.concatenate(lat_parts)
    weight, adcode = np.concatenate(w_parts), np.concatenate(code_parts)

    x0, y0, x1, y1 = OSM_EXTENT
    centre = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    k_centre = int(centre.sum())
    centre_weight = float(weight[centre].sum())
    keep = ~centre
    frames = [pd.DataFrame({"lon": lon[keep], "lat": lat[keep], "weight": weight[keep], "kind": "residential",
                            "adcode": adcode[keep]})]
    if k_centre:
        k_pick = k_centre // 2
        k_drop = k_centre - k_pick
        plon, plat = _pickups(osm_pickup_places(), k_pick, rng, d)
        dlon, dlat = _dropoffs(osm_compounds(), k_drop, rng)
        for kind, a, b in (("pickup", plon, plat), ("dropoff", dlon, dlat)):
            share = _weights(rng, len(a))
            frames.append(pd.DataFrame({"lon": a, "lat": b, "weight": 0.5 * centre_weight * share / share.sum(),
                                        "kind": kind, "adcode": _district_of(d, a, b)}))
    rows = pd.concat(frames, ignore_index=True)
    if (rows["adcode"] == 0).any():  # pragma: no cover - a compound of the extract outside Chengdu
        raise RuntimeError("a demand point fell outside every district")
    return gpd.GeoDataFrame({
        "id": [f"dm-{i:06d}" for i in range(1, len(rows) + 1)],
        "weight": rows["weight"].to_numpy(dtype=np.float64),
        "kind": rows["kind"].to_numpy(dtype=object),
        "adcode": rows["adcode"].to_numpy(dtype=np.int64),
    }, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs="EPSG:4326")
