"""Demonstration layers for "进门难": real OSM compounds with seeded gates, building numbers, entry routes and signs.

What is real and what is generated
----------------------------------
* ``compounds``: the named ``landuse=residential`` areas of the OSM extract (real outlines and
  names, © OpenStreetMap contributors, ODbL). District from the polygon that contains the
  compound's representative point.
* ``gates``: positions are real where OSM has them: ``entrance=*`` / ``barrier=gate`` nodes
  within 15 m of the compound boundary, and the points where a minor OSM way (service road,
  footway, residential street …) crosses the boundary into the compound. A compound with
  none gets 1–3 generated gates on the stretch of boundary nearest to a public road. Names
  come from the bearing seen from the compound's centre (北门, 东北门, 北二门 …). Whether a gate
  lets riders and e-bikes in, and its opening hours, are generated.
* ``buildings``: OSM buildings inside a compound, numbered 1, 2, 3 … row by row from the
  north-west; a compound without OSM buildings gets 3–12 generated building points on a grid.
* ``entry_routes``: for every building of a compound with a rider gate, the shortest way from
  a rider gate, along the OSM paths inside the compound where they exist
  (``source="osm_path"`` when at least half of its length follows them) and otherwise across
  the open ground of the compound (``source="generated"``).
* ``wayfinding_signs``: after 崇州市's standard, a site plan at each gate, a direction sign at
  each junction where entry routes part, a number sign on each building; condition mostly
  good, about 10 % damaged and 5 % missing.

Documented exception: about 3 % of the compounds (at least one) have no gate that lets riders
in. They have gates but no entry routes, so that the "no route: no rider gate" answer of
:func:`layers.rider.entry.entry_route` is exercised by real data.

Everything is drawn from the ``rng`` passed in, in a fixed order, and coordinates are rounded
to 7 decimals: the same seed gives identical layers.
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from mapdata.crs import METRIC_CRS
from mapdata.demo.osm import parse_other_tags, read_layer
from mapdata.vocabulary import TIMEZONE

UPDATED_BY = "demo-build"

#: Ways a rider may walk or push a bike along inside a compound, and whose crossing of the
#: compound outline is taken as a gate.
PATH_HIGHWAYS = ("service", "footway", "residential", "pedestrian", "living_street", "path",
                 "steps", "cycleway", "track", "unclassified")
#: Roads a generated gate faces: the streets riders arrive on.
PUBLIC_ROADS = ("primary", "secondary", "tertiary", "residential", "unclassified", "living_street",
                "primary_link", "secondary_link", "tertiary_link", "trunk", "trunk_link", "service")
GATE_BARRIERS = ("gate", "entrance", "lift_gate", "swing_gate", "sliding_gate")

GATE_NEAR_BOUNDARY_M = 15.0   # an OSM entrance node this close to the outline is a compound gate
GATE_MERGE_M = 25.0           # candidate gates closer than this are one gate
MAX_GATES = 6
SHARE_NO_RIDER_COMPOUNDS = 0.03
SHARE_RIDER_GATES = 0.75
#: Opening hours of gates and how often each is drawn; most compound gates never close.
GATE_HOURS = ("24/7", "Mo-Su 06:00-23:00", "Mo-Su 06:30-22:30", "Mo-Su 07:00-22:00",
              "Mo-Fr 07:00-21:00; Sa,Su 08:00-20:00")
GATE_HOURS_P = (0.55, 0.15, 0.1, 0.1, 0.1)
SIGN_CONDITION_P = {"good": 0.85, "damaged": 0.10, "missing": 0.05}

# routing inside a compound
PATH_CLIP_M = 10.0        # OSM paths are kept up to this far outside the outline
GRID_M = 20.0             # spacing of the open-ground nodes
OPEN_LINK_M = 30.0        # open-ground nodes this close are linked (the 8-neighbourhood)
ENDPOINT_LINK_M = 60.0    # gates and buildings link to nodes this close
OPEN_PENALTY = 2.0        # a metre across lawns and car parks costs two metres of path
OPEN_SLACK_M = 2.0        # open-ground legs stay within the outline plus this
GATE_SLACK_M = 15.0       # legs from a gate may run this far outside (gates sit on the wall)
OSM_PATH_SHARE = 0.5      # a route that follows OSM paths for this share of its length is "osm_path"

_DIRECTIONS = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
_ORDINALS = ("", "二", "三", "四", "五", "六", "七", "八", "九", "十")


def generate_compounds(districts: gpd.GeoDataFrame, rng: np.random.Generator,
                       now: pd.Timestamp) -> dict[str, gpd.GeoDataFrame]:
    """Build the compound layers of the demo dataset.

    Parameters
    ----------
    districts : GeoDataFrame
        Chengdu's districts with columns ``adcode``, ``name`` and polygons in EPSG:4326.
    rng : numpy.random.Generator
        The only source of randomness.
    now : pandas.Timestamp
        The build's clock, written to ``updated_at`` (a naive time is read as Asia/Shanghai).

    Returns
    -------
    dict of str to GeoDataFrame
        ``compounds``, ``gates``, ``buildings``, ``entry_routes`` and ``wayfinding_signs``,
        each conforming to its schema in :mod:`mapdata.schemas`, in EPSG:4326.
    """
    now = pd.Timestamp(now)
    now = now.tz_localize(TIMEZONE) if now.tzinfo is None else now.tz_convert(TIMEZONE)
    compounds = _compounds(districts)
    polys = compounds.geometry.to_crs(METRIC_CRS).values
    gates = _gates(compounds, polys, rng)
    buildings = _buildings(compounds, polys, rng)
    routes = _routes(compounds, polys, gates, buildings)
    signs = _signs(compounds, gates, buildings, routes, rng)
    routes = _finish(routes, now, versioned=True)
    routes.insert(routes.columns.get_loc("source") + 1, "blocked", np.zeros(len(routes), dtype=bool))
    # measured on the stored (rounded) line, so that the column and the geometry agree
    routes["length_m"] = routes.geometry.to_crs(METRIC_CRS).length.round(2).to_numpy()
    return {
        "compounds": compounds,
        "gates": _finish(gates, now, versioned=True),
        "buildings": _finish(buildings, now),
        "entry_routes": routes,
        "wayfinding_signs": _finish(signs, now, versioned=True),
    }


# ---------------------------------------------------------------------------------------------
# compounds

def _compounds(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    areas = read_layer("multipolygons")
    names = areas["name"].astype(object).where(areas["name"].notna(), "").map(str.strip)
    res = areas[(areas["landuse"] == "residential") & (names != "")].copy()
    res["name"] = names[res.index]
    # OGR puts closed ways in osm_way_id and relations in osm_id
    osm = res["osm_way_id"].astype(object).where(res["osm_way_id"].notna(), res["osm_id"])
    res["osm"] = osm.astype(np.int64)
    res = res.sort_values("osm", kind="stable").reset_index(drop=True)
    geoms = shapely.make_valid(res.geometry.values)
    single = shapely.get_num_geometries(geoms) == 1
    geoms[single] = shapely.get_geometry(geoms[single], 0)

    points = gpd.GeoDataFrame(geometry=shapely.point_on_surface(geoms), crs="EPSG:4326")
    dist = districts[["adcode", "name", "geometry"]].to_crs("EPSG:4326").reset_index(drop=True)
    hit = gpd.sjoin(points, dist, predicate="within", how="left")
    hit = hit[~hit.index.duplicated(keep="first")]
    adcode = hit["adcode"].to_numpy(dtype=float)
    district = hit["name"].astype(object).to_numpy()
    lost = np.isnan(adcode)
    if lost.any():
        # an outline that ends just outside every district polygon takes the nearest one
        near = gpd.sjoin_nearest(points[lost].to_crs(METRIC_CRS), dist.to_crs(METRIC_CRS), how="left")
        near = near[~near.index.duplicated(keep="first")]
        adcode[lost] = near["adcode"].to_numpy(dtype=float)
        district[lost] = near["name"].to_numpy(dtype=object)
    return gpd.GeoDataFrame({
        "id": [f"cp-{i:04d}" for i in range(1, len(res) + 1)],
        "name": res["name"].to_numpy(dtype=object),
        "osm_id": res["osm"].astype(str).to_numpy(dtype=object),
        "adcode": adcode.astype(np.int64),
        "district": district,
    }, geometry=geoms, crs="EPSG:4326")


# ---------------------------------------------------------------------------------------------
# gates

def _gates(compounds: gpd.GeoDataFrame, polys: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    boundaries = shapely.boundary(polys)
    tree = shapely.STRtree(boundaries)
    found: list[list[shapely.Point]] = [[] for _ in range(len(polys))]

    # OSM entrance and gate nodes beside the outline come first: they are mapped gates
    pts = read_layer("points")
    tags = parse_other_tags(pts["other_tags"])
    is_gate = np.array([("entrance" in t and t["entrance"] != "no" and "railway" not in t
                         and "public_transport" not in t) for t in tags])
    is_gate |= pts["barrier"].isin(GATE_BARRIERS).to_numpy()
    entrances = pts[is_gate].sort_values("osm_id", key=lambda s: s.astype(np.int64))
    ent = entrances.geometry.to_crs(METRIC_CRS).values
    pi, ci = tree.query(ent, predicate="dwithin", distance=GATE_NEAR_BOUNDARY_M)
    for p, c in sorted(zip(pi.tolist(), ci.tolist())):
        found[c].append(ent[p])

    # then the points where a minor way crosses the outline into the compound
    lines = read_layer("lines")
    lines = lines[lines["highway"].isin(PATH_HIGHWAYS)]
    lines = lines.sort_values("osm_id", key=lambda s: s.astype(np.int64))
    lgeoms = lines.geometry.to_crs(METRIC_CRS).values
    li, ci = tree.query(lgeoms, predicate="intersects")
    inside = shapely.length(shapely.intersection(lgeoms[li], polys[ci])) > 1.0
    li, ci = li[inside], ci[inside]
    cross = shapely.intersection(lgeoms[li], boundaries[ci])
    for c, geom in zip(ci.tolist(), cross):
        # a way running along the outline meets it in a line: that is a wall, not a gate
        parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Point"]
        found[c].extend(parts)

    missing = [c for c in range(len(polys)) if not found[c]]
    generated = _generated_gates(polys, boundaries, missing, rng)
    for c, points in generated.items():
        found[c] = points

    centroids = shapely.centroid(polys)
    rows = []
    for c, cands in enumerate(found):
        kept: list[shapely.Point] = []
        for p in cands:
            if all(p.distance(k) >= GATE_MERGE_M for k in kept):
                kept.append(p)
        kept = _spread(kept, MAX_GATES)
        cx, cy = centroids[c].x, centroids[c].y
        bearings = [(math.degrees(math.atan2(p.x - cx, p.y - cy)) + 360.0) % 360.0 for p in kept]
        order = sorted(range(len(kept)), key=lambda k: (bearings[k], kept[k].x, kept[k].y))
        seen: dict[str, int] = {}
        for k in order:
            direction = _DIRECTIONS[int(round(bearings[k] / 45.0)) % 8]
            n = seen.get(direction, 0)
            seen[direction] = n + 1
            name = f"{direction}{_ORDINALS[n] if n < len(_ORDINALS) else n + 1}门"
            rows.append({"compound_id": compounds["id"].iat[c], "name": name, "_c": c,
                         "geometry": kept[k]})
    gates = pd.DataFrame(rows)
    gates.insert(0, "id", [f"gt-{i:05d}" for i in range(1, len(gates) + 1)])

    n_comp = len(polys)
    no_rider = rng.choice(n_comp, size=max(1, round(SHARE_NO_RIDER_COMPOUNDS * n_comp)), replace=False)
    rider = rng.random(len(gates)) < SHARE_RIDER_GATES
    rescue = rng.random(n_comp)
    comp = gates["_c"].to_numpy()
    closed = set(no_rider.tolist())
    for c in range(n_comp):
        idx = np.flatnonzero(comp == c)
        if c in closed:
            rider[idx] = False
        elif not rider[idx].any():
            rider[idx[int(rescue[c] * len(idx))]] = True
    e_bike_draw = rng.random(len(gates))
    # residents-only gates seldom let any e-bike through; rider gates mostly do
    gates["rider_access"] = rider
    gates["e_bike"] = np.where(rider, e_bike_draw < 0.7, e_bike_draw < 0.15)
    gates["opening_hours"] = rng.choice(np.array(GATE_HOURS, dtype=object), size=len(gates), p=GATE_HOURS_P)
    return gates


def _spread(points: list, k: int) -> list:
    """Keep at most ``k`` points, the first one and then each time the farthest from those kept."""
    if len(points) <= k:
        return points
    kept = [0]
    while len(kept) < k:
        d = [min(points[i].distance(points[j]) for j in kept) if i not in kept else -1.0
             for i in range(len(points))]
        kept.append(int(np.argmax(d)))
    return [points[i] for i in sorted(kept)]


def _generated_gates(polys, boundaries, which: list[int], rng) -> dict[int, list]:
    """1–3 gates per compound on the stretches of outline nearest to a public road."""
    if not which:
        return {}
    lines = read_layer("lines")
    roads = lines[lines["highway"].isin(PUBLIC_ROADS)].sort_values("osm_id", key=lambda s: s.astype(np.int64))
    road_tree = shapely.STRtree(roads.geometry.to_crs(METRIC_CRS).values)
    out = {}
    for c in which:
        ring = boundaries[c]
        perimeter = ring.length
        along = np.arange(0.0, perimeter, 5.0)
        samples = shapely.line_interpolate_point(ring, along)
        _, dist = road_tree.query_nearest(samples, return_distance=True, all_matches=False)
        k = int(rng.integers(1, 4))
        chosen: list[int] = []
        best = float(dist.min())
        for i in np.argsort(dist, kind="stable"):
            if len(chosen) == k or dist[i] > best + 60.0:
                break
            gap = [min(abs(along[i] - along[j]), perimeter - abs(along[i] - along[j])) for j in chosen]
            if all(g >= perimeter / (k + 1) for g in gap):
                chosen.append(int(i))
        out[c] = [samples[i] for i in chosen]
    return out


# ---------------------------------------------------------------------------------------------
# buildings

def _buildings(compounds: gpd.GeoDataFrame, polys: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    areas = read_layer("multipolygons")
    osm = areas[areas["building"].notna()].copy()
    osm["osm"] = osm["osm_way_id"].astype(object).where(osm["osm_way_id"].notna(), osm["osm_id"]).astype(np.int64)
    osm = osm.sort_values("osm", kind="stable")
    bpts = shapely.point_on_surface(osm.geometry.to_crs(METRIC_CRS).values)
    bi, ci = shapely.STRtree(polys).query(bpts, predicate="within")
    # a building inside two overlapping outlines belongs to the first compound
    first = pd.Series(ci).groupby(bi).min()
    by_compound: dict[int, list[int]] = {}
    for b, c in first.items():
        by_compound.setdefault(int(c), []).append(int(b))

    rows = []
    for c, poly in enumerate(polys):
        if c in by_compound:
            pts = [bpts[b] for b in by_compound[c]]
            ids = [str(osm["osm"].iat[b]) for b in by_compound[c]]
        else:
            n = int(rng.integers(3, 13))
            n = min(n, max(3, int(poly.area // 1500)))
            pts = _grid_points(poly, n, rng)
            ids = [None] * len(pts)
        order = _nw_order(pts, poly)
        for number, k in enumerate(order, start=1):
            rows.append({"compound_id": compounds["id"].iat[c], "number": str(number),
                         "label": f"{number}栋", "osm_id": ids[k], "_c": c, "geometry": pts[k]})
    out = pd.DataFrame(rows)
    out.insert(0, "id", [f"bd-{i:05d}" for i in range(1, len(out) + 1)])
    return out


def _nw_order(points: list, poly, row_m: float = 25.0) -> list[int]:
    """Indices of ``points`` in reading order: rows of ``row_m`` from the north, west to east."""
    top = poly.bounds[3]
    keys = [(math.floor((top - p.y) / row_m), p.x, -p.y) for p in points]
    return sorted(range(len(points)), key=lambda k: keys[k])


def _grid_points(poly, n: int, rng: np.random.Generator) -> list:
    """``n`` points laid out on a regular grid inside ``poly``, kept clear of its outline."""
    inner = poly
    for margin in (12.0, 6.0, 2.0):
        candidate = poly.buffer(-margin)
        if not candidate.is_empty and candidate.area > 0.1 * poly.area:
            inner = candidate
            break
    x0, y0, x1, y1 = inner.bounds
    spacing = math.sqrt(inner.area / n)
    offset = rng.random(2)
    chosen = np.empty((0, 2))
    for _ in range(12):
        xs = np.arange(x0 + offset[0] * spacing, x1, spacing)
        ys = np.arange(y0 + offset[1] * spacing, y1, spacing)
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        inside = shapely.contains_xy(inner, gx, gy)
        chosen = np.column_stack([gx[inside], gy[inside]])
        if len(chosen) >= n:
            break
        spacing *= 0.8
    if len(chosen) == 0:
        p = shapely.point_on_surface(inner)
        return [p]
    pts = list(shapely.points(chosen))
    order = _nw_order(pts, inner)
    # spread the n picks over the whole grid, not the first rows only
    picks = np.unique(np.round(np.linspace(0, len(order) - 1, min(n, len(order)))).astype(int))
    return [pts[order[i]] for i in picks]


# ---------------------------------------------------------------------------------------------
# entry routes

def _routes(compounds, polys, gates: pd.DataFrame, buildings: pd.DataFrame) -> pd.DataFrame:
    lines = read_layer("lines")
    lines = lines[lines["highway"].isin(PATH_HIGHWAYS)].sort_values("osm_id", key=lambda s: s.astype(np.int64))
    path_geoms = lines.geometry.to_crs(METRIC_CRS).values
    path_tree = shapely.STRtree(path_geoms)
    rider = gates[gates["rider_access"]]
    gate_groups = {c: g for c, g in rider.groupby("_c", sort=True)}
    rows = []
    for c, bgroup in buildings.groupby("_c", sort=True):
        if c not in gate_groups:
            continue
        ggroup = gate_groups[c]
        poly = polys[c]
        clip = poly.buffer(PATH_CLIP_M)
        near = path_tree.query(clip, predicate="intersects")
        paths = [g for g in shapely.get_parts(shapely.intersection(path_geoms[near], clip))
                 if g.geom_type == "LineString" and g.length > 0]
        found = _route_compound(poly, paths, list(ggroup.geometry), list(bgroup.geometry))
        for k, (g, line, share) in enumerate(found):
            if line is None:
                continue
            rows.append({"compound_id": compounds["id"].iat[c], "gate_id": ggroup["id"].iat[g],
                         "building_id": bgroup["id"].iat[k], "length_m": float(line.length),
                         "source": "osm_path" if share >= OSM_PATH_SHARE else "generated",
                         "_c": c, "geometry": line})
    out = pd.DataFrame(rows)
    out.insert(0, "id", [f"er-{i:05d}" for i in range(1, len(out) + 1)])
    return out


class _Nodes:
    """Graph nodes keyed by their coordinates to the centimetre, so that ways meet where OSM joins them."""

    def __init__(self):
        self.index: dict[tuple[int, int], int] = {}
        self.xy: list[tuple[float, float]] = []

    def add(self, x: float, y: float) -> int:
        key = (round(x * 100), round(y * 100))
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.xy)
            self.xy.append((x, y))
        return i


def _route_compound(poly, paths: list, gate_pts: list, building_pts: list) -> list[tuple]:
    """For each building: (gate position, LineString or None, share along OSM paths).

    The graph has the OSM path vertices (every 20 m at least), a 20 m grid over the open ground
    and the gates and buildings. Open-ground links cost :data:`OPEN_PENALTY` times their length
    and must stay inside the outline, so routes keep to paths where there are paths; legs from a
    gate may run along the wall outside (the gate itself often sits a few metres out).
    """
    nodes = _Nodes()
    osm_edges: list[tuple[int, int]] = []
    for line in paths:
        coords = shapely.get_coordinates(shapely.segmentize(line, GRID_M))
        ids = [nodes.add(x, y) for x, y in coords]
        osm_edges.extend((a, b) for a, b in zip(ids[:-1], ids[1:]) if a != b)
    interior = poly.buffer(-3.0)
    if interior.is_empty:
        interior = poly
    x0, y0, x1, y1 = interior.bounds
    # the grid is anchored on whole multiples of its spacing so it does not depend on the data order
    xs = np.arange(math.ceil(x0 / GRID_M) * GRID_M, x1, GRID_M)
    ys = np.arange(math.ceil(y0 / GRID_M) * GRID_M, y1, GRID_M)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    keep = shapely.contains_xy(interior, gx, gy)
    for x, y in zip(gx[keep], gy[keep]):
        nodes.add(float(x), float(y))
    gate_ids = [nodes.add(p.x, p.y) for p in gate_pts]
    building_ids = [nodes.add(p.x, p.y) for p in building_pts]
    xy = np.asarray(nodes.xy)
    n = len(xy)

    open_area = poly.buffer(OPEN_SLACK_M)
    gate_area = poly.buffer(GATE_SLACK_M)
    shapely.prepare(open_area)
    shapely.prepare(gate_area)
    tree = cKDTree(xy)
    pairs = tree.query_pairs(OPEN_LINK_M, output_type="ndarray")
    ends = sorted(set(gate_ids) | set(building_ids))
    extra = []
    for i in ends:
        for j in tree.query_ball_point(xy[i], ENDPOINT_LINK_M):
            if i != j:
                extra.append((min(i, j), max(i, j)))
    # a gate reaches each building in a straight line when nothing is in the way
    extra.extend((min(g, b), max(g, b)) for g in gate_ids for b in building_ids if g != b)
    if extra:
        pairs = np.vstack([pairs.reshape(-1, 2), np.asarray(extra, dtype=pairs.dtype)])
    pairs = np.unique(pairs.reshape(-1, 2), axis=0)
    segs = shapely.linestrings(np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], axis=1))
    gate_set = np.zeros(n, dtype=bool)
    gate_set[gate_ids] = True
    from_gate = gate_set[pairs[:, 0]] | gate_set[pairs[:, 1]]
    ok = np.where(from_gate, shapely.covers(gate_area, segs), shapely.covers(open_area, segs))
    pairs = pairs[ok]
    open_len = shapely.length(segs[ok])

    osm = np.asarray(osm_edges, dtype=np.int64).reshape(-1, 2)
    osm = np.sort(osm, axis=1)
    osm_len = np.hypot(*(xy[osm[:, 0]] - xy[osm[:, 1]]).T) if len(osm) else np.empty(0)
    edges = pd.DataFrame({
        "a": np.concatenate([osm[:, 0], pairs[:, 0]]),
        "b": np.concatenate([osm[:, 1], pairs[:, 1]]),
        "cost": np.concatenate([osm_len, OPEN_PENALTY * open_len]),
        "osm": np.concatenate([np.ones(len(osm), bool), np.zeros(len(pairs), bool)]),
    })
    edges = edges[(edges["a"] != edges["b"]) & (edges["cost"] > 0)]
    edges = edges.sort_values(["a", "b", "cost"], kind="stable").drop_duplicates(["a", "b"], keep="first")
    on_path = set(zip(edges.loc[edges["osm"], "a"].tolist(), edges.loc[edges["osm"], "b"].tolist()))
    graph = coo_matrix((edges["cost"].to_numpy(), (edges["a"].to_numpy(), edges["b"].to_numpy())), shape=(n, n)).tocsr()
    cost, pred = dijkstra(graph, directed=False, indices=gate_ids, return_predecessors=True)

    out = []
    for k, b in enumerate(building_ids):
        g = int(np.argmin(cost[:, b]))
        if not np.isfinite(cost[g, b]):
            out.append((g, None, 0.0))
            continue
        seq = [b]
        while seq[-1] != gate_ids[g]:
            seq.append(int(pred[g, seq[-1]]))
        seq.reverse()
        if len(seq) == 1:  # building and gate on one spot: no line to draw
            out.append((g, None, 0.0))
            continue
        is_osm = [(min(a, c), max(a, c)) in on_path for a, c in zip(seq[:-1], seq[1:])]
        coords = _pull_taut(xy, seq, is_osm, open_area, gate_area, gate_ids[g])
        coords[0] = (gate_pts[g].x, gate_pts[g].y)
        coords[-1] = (building_pts[k].x, building_pts[k].y)
        line = shapely.LineString(coords)
        along = sum(math.dist(xy[a], xy[c]) for (a, c), o in zip(zip(seq[:-1], seq[1:]), is_osm) if o)
        out.append((g, line, along / line.length if line.length > 0 else 0.0))
    return out


def _pull_taut(xy, seq: list[int], is_osm: list[bool], open_area, gate_area, gate: int) -> list[tuple]:
    """Straighten the open-ground stretches of a node path where a straight leg stays inside."""
    coords = [tuple(xy[seq[0]])]
    i = 0
    while i < len(seq) - 1:
        if is_osm[i]:
            coords.append(tuple(xy[seq[i + 1]]))
            i += 1
            continue
        j_max = i + 1
        while j_max < len(seq) - 1 and not is_osm[j_max]:
            j_max += 1
        area = gate_area if seq[i] == gate else open_area
        cands = np.arange(j_max, i + 1, -1)
        segs = shapely.linestrings(np.stack([np.broadcast_to(xy[seq[i]], (len(cands), 2)),
                                             xy[[seq[j] for j in cands]]], axis=1))
        ok = np.flatnonzero(shapely.covers(area, segs)) if len(cands) else np.empty(0, int)
        j = int(cands[ok[0]]) if len(ok) else i + 1
        coords.append(tuple(xy[seq[j]]))
        i = j
    return coords


# ---------------------------------------------------------------------------------------------
# wayfinding signs

def _signs(compounds, gates: pd.DataFrame, buildings: pd.DataFrame, routes: pd.DataFrame,
           rng: np.random.Generator) -> pd.DataFrame:
    label = dict(zip(buildings["id"], buildings["number"]))
    polys_rep = shapely.point_on_surface(compounds.geometry.to_crs(METRIC_CRS).values)
    rows = []
    route_groups = {c: r for c, r in routes.groupby("_c", sort=True)} if len(routes) else {}
    for c, ggroup in gates.groupby("_c", sort=True):
        cid = compounds["id"].iat[c]
        centre = polys_rep[c]
        for gid, gname, p in zip(ggroup["id"], ggroup["name"], ggroup.geometry):
            # the board stands a few metres inside the gate, facing those who come in
            d = math.dist((p.x, p.y), (centre.x, centre.y))
            t = min(1.0, 4.0 / d) if d > 0 else 0.0
            at = shapely.Point(p.x + t * (centre.x - p.x), p.y + t * (centre.y - p.y))
            rows.append({"compound_id": cid, "kind": "site_plan", "gate_id": gid, "building_id": None,
                         "text": f"小区平面图 · {compounds['name'].iat[c]} {gname}", "geometry": at})
        if c in route_groups:
            gate_xy = [(p.x, p.y) for p in ggroup.geometry]
            for at, text in _junction_signs(route_groups[c], label, gate_xy):
                rows.append({"compound_id": cid, "kind": "direction", "gate_id": None, "building_id": None,
                             "text": text, "geometry": at})
    for bid, c, text, p in zip(buildings["id"], buildings["_c"], buildings["label"], buildings.geometry):
        rows.append({"compound_id": compounds["id"].iat[c], "kind": "building_number", "gate_id": None,
                     "building_id": bid, "text": text, "geometry": p, "_c": c})
    signs = pd.DataFrame(rows)
    order = signs["compound_id"].map(lambda s: int(s[3:])) * 10 + signs["kind"].map(
        {"site_plan": 0, "direction": 1, "building_number": 2})
    signs = signs.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    signs = signs.drop(columns=["_c"], errors="ignore")
    signs.insert(0, "id", [f"sg-{i:05d}" for i in range(1, len(signs) + 1)])
    kinds = list(SIGN_CONDITION_P)
    signs["condition"] = rng.choice(np.array(kinds, dtype=object), size=len(signs),
                                     p=[SIGN_CONDITION_P[k] for k in kinds])
    return signs


def _junction_signs(routes: pd.DataFrame, label: dict, gate_xy: list) -> list[tuple]:
    """Direction signs where three or more route legs meet, with the buildings down each branch."""
    def key(pt):
        return (round(pt[0] * 10), round(pt[1] * 10))

    neighbours: dict[tuple, set] = {}
    point_of: dict[tuple, tuple] = {}
    seqs = []
    for line, bid in zip(routes.geometry, routes["building_id"]):
        coords = [tuple(c) for c in shapely.get_coordinates(line)]
        keys = [key(c) for c in coords]
        for a, b, ca in zip(keys[:-1], keys[1:], coords[:-1]):
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
            point_of.setdefault(a, ca)
        point_of.setdefault(keys[-1], coords[-1])
        seqs.append((keys, coords, label[bid]))
    junctions = sorted(k for k, v in neighbours.items() if len(v) >= 3)
    kept: list[tuple] = []
    out = []
    for j in junctions:
        p = point_of[j]
        if any(math.dist(p, g) < 8.0 for g in gate_xy) or any(math.dist(p, q) < 10.0 for q in kept):
            continue
        branches: dict[str, list[int]] = {}
        for keys, coords, number in seqs:
            if j not in keys[1:-1]:
                continue
            i = keys.index(j)
            ax, ay = coords[i][0] - coords[i - 1][0], coords[i][1] - coords[i - 1][1]
            bx, by = coords[i + 1][0] - coords[i][0], coords[i + 1][1] - coords[i][1]
            turn = math.degrees(math.atan2(ax * by - ay * bx, ax * bx + ay * by))
            arrow = "↑" if abs(turn) <= 45 else ("←" if 45 < turn <= 135 else ("→" if -135 <= turn < -45 else "↓"))
            branches.setdefault(arrow, []).append(int(number))
        if len(branches) < 2:
            continue
        kept.append(p)
        parts = [f"{_number_ranges(sorted(nums))}栋 {arrow}" for arrow, nums in
                 sorted(branches.items(), key=lambda kv: min(kv[1]))]
        out.append((shapely.Point(p), "；".join(parts)))
    return out


def _number_ranges(nums: list[int]) -> str:
    """``[1, 2, 3, 5]`` → ``"1-3、5"``."""
    parts, start, prev = [], None, None
    for n in nums + [None]:
        if start is None:
            start = prev = n
        elif n is not None and n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = n
    return "、".join(parts)


# ---------------------------------------------------------------------------------------------

def _finish(frame: pd.DataFrame, now: pd.Timestamp, versioned: bool = False) -> gpd.GeoDataFrame:
    """To EPSG:4326 with coordinates rounded to 7 decimals; helper columns dropped."""
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
    geoms = gpd.GeoSeries(frame["geometry"].to_numpy(), crs=METRIC_CRS).to_crs("EPSG:4326").values
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, 7))
    out = gpd.GeoDataFrame(frame.drop(columns="geometry").reset_index(drop=True), geometry=geoms, crs="EPSG:4326")
    for col in ("osm_id", "gate_id", "building_id"):
        if col in out.columns:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    if versioned:
        out["version"] = np.ones(len(out), dtype=np.int64)
        out["updated_at"] = pd.Series([now] * len(out), dtype=pd.DatetimeTZDtype(tz=TIMEZONE))
        out["updated_by"] = UPDATED_BY
    return out
