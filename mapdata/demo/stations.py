"""Generate the demonstration stations layer: 暖新驿站 on real places, seeded and reproducible.

The real station list is not public, so the app ships this generated one, labelled
"demonstration data". How it is made:

* **How many per district.** ``n`` stations (426, the city's first batch) are shared among the 20
  districts in proportion to ``population × (0.5 + urban_share)`` (2020 census): riders follow
  orders, orders follow people, and more so in towns, while every county still gets its share.
  The shares are rounded by the largest-remainder method (ties by adcode), so the counts add up
  to ``n`` exactly; see :func:`station_counts`.
* **The places the city's report names** (:data:`REPORTED_STATIONS`) come first, in their
  districts, at their real neighbourhoods and with the facilities the report lists.
* **The centre.** Within the OpenStreetMap extract (:data:`OSM_EXTENT`, © OpenStreetMap
  contributors, ODbL) stations sit on real places: named malls, markets, residential compounds,
  banks, post offices, shops, restaurants and other POIs. Each district with land in the extract
  puts there the share of its stations equal to the share of its area inside the extract.
* **Elsewhere** the remaining stations are drawn around the district's urban centres
  (:data:`URBAN_CENTRES`, the seats of the district or county governments and the big
  sub-centres), from a normal distribution whose spread grows with the urban population
  (:func:`_spread_km`), rejected until they fall inside the district polygon. The five core
  districts, urban throughout (urban share 1.0), are sampled uniformly over their land outside
  the extract instead.
* Nothing is placed within :data:`WATER_CLEARANCE_M` of a river, canal or water area of the OSM
  extract, nor outside Chengdu; each station carries the adcode and name of the district polygon
  containing it.
* ``street`` (街道) is known for the reported places; for the others it is the 街道 of
  :data:`STREET_OFFICES` whose office lies within the given radius, else None. Names, addresses,
  operators, phone numbers, facilities, opening hours and statuses are drawn from documented,
  realistic mixes (module constants below).

All coordinates in the tables are WGS-84 and **approximate** (from general knowledge of Chengdu
and, in the centre, from the OSM extract): good to a few hundred metres, not to the door.
The same ``rng`` seed gives the same rows and geometries (coordinates rounded to 7 decimals);
nothing depends on the clock, dict or set order, or hash randomisation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata.crs import METRIC_EPSG
from mapdata.demo.osm import parse_other_tags, read_layer
from mapdata.vocabulary import AMENITY_KEYS, TIMEZONE

#: WGS-84 bounding box of the OpenStreetMap extract (``mapdata/sources/README.md``).
OSM_EXTENT = (104.0421, 30.6528, 104.1296, 30.7279)
#: Stations keep this distance from rivers, canals and water areas of the OSM extract; the
#: requirement is 20 m, the extra 5 m absorbs rounding and reprojection.
WATER_CLEARANCE_M = 25.0
COORD_DECIMALS = 7
UPDATED_BY = "demo-build"


@dataclass(frozen=True)
class ReportedStation:
    """A station named in the city's report (Chengdu, April 2025), at its real neighbourhood."""

    name: str
    district: str
    street: str
    lon: float
    lat: float
    address: str
    operator: str
    amenities: tuple[str, ...]
    opening_hours: str
    capacity: int


_BASIC = ("drinking_water", "charging", "rest_area", "air_conditioning")

#: The places the report names. Coordinates are WGS-84 and approximate (the neighbourhood, not
#: the door): 书房社区 is on the east side of 东安湖, 龙泉驿; 西园街道 is in 高新西区 (administered
#: within 郫都区); 红光街道 lies east of 郫筒; the 春熙路 container stations stand near the 春熙路 /
#: IFS block (position taken from the OSM extract); 营门口 is on 营门口路 (OSM); 牛市口 is the
#: 牛市口 junction (OSM).
REPORTED_STATIONS: tuple[ReportedStation, ...] = (
    ReportedStation("吾悦广场骑手驿站", "龙泉驿区", "东安街道", 104.2745, 30.5885,
                    "成都市龙泉驿区东安街道书房社区吾悦广场商圈", "龙泉驿区总工会",
                    _BASIC + ("books", "microwave", "first_aid", "legal_counselling",
                              "psychological_counselling", "toilet", "wifi"),
                    "Mo-Su 08:00-22:00", 40),
    ReportedStation("恒惠坊暖新驿站", "郫都区", "西园街道", 103.9625, 30.7475,
                    "成都市高新区西园街道恒惠坊", "成都高新区西园街道办事处",
                    _BASIC + ("microwave", "toilet", "wifi"), "Mo-Su 08:00-21:00", 20),
    ReportedStation("“爱+”暖新厨房", "郫都区", "西园街道", 103.9665, 30.7445,
                    "成都市高新区西园街道", "成都高新区西园街道办事处",
                    _BASIC + ("kitchen", "microwave", "toilet"), "Mo-Su 10:00-14:00,17:00-21:00", 16),
    ReportedStation("春熙路集装箱暖新驿站(一号)", "锦江区", "春熙路街道", 104.0797, 30.6557,
                    "成都市锦江区春熙路街道红星路三段附近", "锦江区春熙路街道办事处",
                    _BASIC + ("microwave", "first_aid"), "Mo-Su 08:00-22:00", 6),
    ReportedStation("春熙路集装箱暖新驿站(二号)", "锦江区", "春熙路街道", 104.0766, 30.6585,
                    "成都市锦江区春熙路街道总府路附近", "锦江区春熙路街道办事处",
                    _BASIC + ("first_aid",), "24/7", 6),
    ReportedStation("仁合社区职工书屋", "郫都区", "红光街道", 103.9440, 30.7680,
                    "成都市郫都区红光街道仁合社区", "郫都区红光街道仁合社区",
                    _BASIC + ("books", "wifi", "toilet"), "Mo-Su 09:00-21:00", 30),
    ReportedStation("“骑心协力”网格联络站", "金牛区", "营门口街道", 104.0395, 30.6905,
                    "成都市金牛区营门口街道营门口路", "金牛区营门口街道办事处",
                    _BASIC + ("microwave", "first_aid", "wifi"), "Mo-Su 08:00-22:00", 12),
    ReportedStation("红房子骑手服务点", "金牛区", "营门口街道", 104.0420, 30.6885,
                    "成都市金牛区营门口街道红房子服务点", "金牛区营门口街道办事处",
                    _BASIC + ("books",), "Mo-Fr 08:30-12:00,14:00-18:00; PH off", 8),
    ReportedStation("牛市口街道关爱服务站", "锦江区", "牛市口街道", 104.1040, 30.6415,
                    "成都市锦江区牛市口街道牛市口", "锦江区牛市口街道办事处",
                    _BASIC + ("microwave", "first_aid", "legal_counselling"), "Mo-Su 08:00-22:00", 15),
)


@dataclass(frozen=True)
class UrbanCentre:
    """A town centre around which stations are drawn: WGS-84, approximate; weight within the district."""

    district: str
    place: str
    lon: float
    lat: float
    weight: float


#: Seats of the district and county governments, and the big sub-centres, WGS-84, approximate.
URBAN_CENTRES: tuple[UrbanCentre, ...] = (
    UrbanCentre("龙泉驿区", "龙泉", 104.268, 30.558, 0.5),
    UrbanCentre("龙泉驿区", "大面", 104.185, 30.597, 0.3),
    UrbanCentre("龙泉驿区", "东安湖", 104.275, 30.590, 0.2),
    UrbanCentre("青白江区", "大弯", 104.250, 30.880, 1.0),
    UrbanCentre("新都区", "新都", 104.160, 30.825, 0.6),
    UrbanCentre("新都区", "大丰", 104.100, 30.800, 0.4),
    UrbanCentre("温江区", "柳城", 103.840, 30.690, 1.0),
    UrbanCentre("双流区", "东升", 103.925, 30.575, 0.5),
    UrbanCentre("双流区", "华阳", 104.055, 30.505, 0.5),
    UrbanCentre("郫都区", "郫筒", 103.888, 30.810, 0.5),
    UrbanCentre("郫都区", "犀浦", 103.975, 30.760, 0.5),
    UrbanCentre("新津区", "五津", 103.815, 30.415, 1.0),
    UrbanCentre("金堂县", "赵镇", 104.415, 30.860, 1.0),
    UrbanCentre("大邑县", "晋原", 103.520, 30.590, 1.0),
    UrbanCentre("蒲江县", "鹤山", 103.505, 30.195, 1.0),
    UrbanCentre("都江堰市", "灌口", 103.620, 31.000, 1.0),
    UrbanCentre("彭州市", "天彭", 103.955, 30.990, 1.0),
    UrbanCentre("邛崃市", "临邛", 103.465, 30.415, 1.0),
    UrbanCentre("崇州市", "崇阳", 103.675, 30.630, 1.0),
    UrbanCentre("简阳市", "简城", 104.545, 30.395, 1.0),
)


@dataclass(frozen=True)
class StreetOffice:
    """A 街道 (sub-district): its office, WGS-84 and approximate, and the radius within which a
    station is said to belong to it."""

    district: str
    street: str
    lon: float
    lat: float
    radius_km: float


#: Real 街道 of each district with the approximate location of their offices. Short on purpose:
#: street boundaries are not public, so a station outside every radius gets no street.
STREET_OFFICES: tuple[StreetOffice, ...] = (
    StreetOffice("锦江区", "春熙路街道", 104.079, 30.656, 0.8),
    StreetOffice("锦江区", "书院街街道", 104.083, 30.663, 0.6),
    StreetOffice("锦江区", "督院街街道", 104.073, 30.650, 0.6),
    StreetOffice("锦江区", "牛市口街道", 104.105, 30.641, 1.0),
    StreetOffice("锦江区", "成龙路街道", 104.125, 30.617, 1.5),
    StreetOffice("青羊区", "少城街道", 104.058, 30.668, 0.8),
    StreetOffice("青羊区", "草市街街道", 104.068, 30.675, 0.6),
    StreetOffice("青羊区", "光华街道", 104.010, 30.670, 1.2),
    StreetOffice("金牛区", "营门口街道", 104.040, 30.690, 1.0),
    StreetOffice("金牛区", "荷花池街道", 104.075, 30.695, 0.8),
    StreetOffice("金牛区", "茶店子街道", 104.020, 30.700, 1.0),
    StreetOffice("金牛区", "九里堤街道", 104.055, 30.708, 0.8),
    StreetOffice("武侯区", "玉林街道", 104.058, 30.635, 0.8),
    StreetOffice("武侯区", "红牌楼街道", 104.030, 30.628, 1.0),
    StreetOffice("武侯区", "簇桥街道", 104.015, 30.600, 1.2),
    StreetOffice("成华区", "猛追湾街道", 104.095, 30.668, 0.8),
    StreetOffice("成华区", "建设路街道", 104.106, 30.676, 0.8),
    StreetOffice("成华区", "府青路街道", 104.090, 30.690, 0.8),
    StreetOffice("成华区", "驷马桥街道", 104.087, 30.702, 0.8),
    StreetOffice("成华区", "二仙桥街道", 104.125, 30.685, 1.0),
    StreetOffice("成华区", "龙潭街道", 104.175, 30.700, 1.5),
    StreetOffice("龙泉驿区", "龙泉街道", 104.268, 30.558, 2.5),
    StreetOffice("龙泉驿区", "东安街道", 104.275, 30.590, 2.0),
    StreetOffice("龙泉驿区", "大面街道", 104.185, 30.597, 2.0),
    StreetOffice("青白江区", "大弯街道", 104.250, 30.880, 2.5),
    StreetOffice("新都区", "新都街道", 104.160, 30.825, 2.5),
    StreetOffice("新都区", "大丰街道", 104.100, 30.800, 2.0),
    StreetOffice("温江区", "柳城街道", 103.840, 30.690, 2.5),
    StreetOffice("双流区", "东升街道", 103.925, 30.575, 2.5),
    StreetOffice("双流区", "华阳街道", 104.055, 30.505, 2.5),
    StreetOffice("郫都区", "郫筒街道", 103.888, 30.810, 2.5),
    StreetOffice("郫都区", "犀浦街道", 103.975, 30.760, 1.2),
    StreetOffice("郫都区", "红光街道", 103.944, 30.768, 1.2),
    StreetOffice("郫都区", "西园街道", 103.963, 30.747, 1.2),
    StreetOffice("新津区", "五津街道", 103.815, 30.415, 2.5),
    StreetOffice("金堂县", "赵镇街道", 104.415, 30.860, 2.5),
    StreetOffice("大邑县", "晋原街道", 103.520, 30.590, 2.5),
    StreetOffice("蒲江县", "鹤山街道", 103.505, 30.195, 2.0),
    StreetOffice("都江堰市", "灌口街道", 103.615, 31.000, 2.0),
    StreetOffice("彭州市", "天彭街道", 103.955, 30.990, 2.5),
    StreetOffice("邛崃市", "临邛街道", 103.465, 30.415, 2.5),
    StreetOffice("崇州市", "崇阳街道", 103.675, 30.630, 2.5),
    StreetOffice("简阳市", "简城街道", 104.545, 30.395, 2.0),
)

#: Probability that a generated station has each facility. Water, charging and a place to sit
#: are what a station is for; counselling rooms and kitchens are rare showpieces.
AMENITY_PROBABILITY: dict[str, float] = {
    "drinking_water": 0.98, "microwave": 0.60, "charging": 0.96, "toilet": 0.55,
    "first_aid": 0.50, "books": 0.25, "legal_counselling": 0.06,
    "psychological_counselling": 0.05, "air_conditioning": 0.80, "rest_area": 0.97,
    "kitchen": 0.03, "wifi": 0.60,
}

#: Who runs a generated station: the kind, its probability, the opening-hours mix it follows
#: and the capacity range (people seated, inclusive).
OPERATOR_KINDS: tuple[tuple[str, float], ...] = (
    ("trade_union", 0.40),   # 区/县/市总工会, the main funder of 暖新驿站
    ("street_office", 0.25),  # 街道办事处 / community service centres
    ("company", 0.35),        # platforms, couriers, banks and petrol stations hosting a corner
)
COMPANIES: tuple[str, ...] = ("美团", "饿了么", "顺丰速运", "京东物流", "中国邮政", "中国石化",
                              "成都银行", "成都农商银行")
#: Opening hours per operator kind, OSM syntax, with their probabilities. Offices keep office
#: hours with a lunch break and close on public holidays; companies run late or round the clock;
#: a few night stations serve the late-delivery peak.
OPENING_HOURS: dict[str, tuple[tuple[str, float], ...]] = {
    "trade_union": (("Mo-Su 08:00-22:00", 0.35), ("24/7", 0.20), ("Mo-Su 09:00-21:00", 0.20),
                    ("Mo-Sa 08:00-20:00; PH off", 0.10), ("Mo-Su 07:00-23:00; PH 09:00-18:00", 0.10),
                    ("Mo-Su 18:00-02:00", 0.05)),
    "street_office": (("Mo-Fr 08:30-12:00,14:00-18:00; PH off", 0.40),
                      ("Mo-Fr 09:00-12:00,13:30-17:30; PH off", 0.15),
                      ("Mo-Fr 08:30-18:00; Sa 09:00-12:00; PH off", 0.15), ("Mo-Fr 08:00-18:00", 0.10),
                      ("Mo-Su 08:00-22:00", 0.20)),
    "company": (("24/7", 0.35), ("Mo-Su 10:00-22:00", 0.25), ("Mo-Su 08:00-22:00", 0.20),
                ("Mo-Su 18:00-02:00", 0.10), ("Mo-Su 11:00-14:00,17:00-02:00", 0.10)),
}
CAPACITY_RANGE: dict[str, tuple[int, int]] = {"trade_union": (8, 30), "street_office": (6, 20),
                                              "company": (4, 12)}
NAME_SUFFIXES: tuple[tuple[str, float], ...] = (("暖新驿站", 0.55), ("骑手驿站", 0.20),
                                                ("新就业群体服务站", 0.10), ("户外劳动者服务站", 0.10),
                                                ("爱心驿站", 0.05))
#: Share of stations without a published phone number.
NO_PHONE_SHARE = 0.25
#: Temporarily closed stations: the share, the reasons shown to riders, and how long (days).
CLOSED_SHARE = 0.04
CLOSED_NOTES: tuple[str, ...] = ("装修暂停开放", "微波炉维修中,暂停开放", "设备检修,暂停开放",
                                 "场地调整,暂停开放")
CLOSED_DAYS = (2, 10)

#: OSM features that can host a station, by tag.
#: Points: the kinds of place that do host rider stations (banks' 劳动者港湾, post offices,
#: petrol stations' 司机之家, markets, libraries, community centres, big shops); restaurants and
#: small shops, whose OSM names are often generic, do not.
_HOST_POINT_TAGS = {
    "amenity": {"bank", "post_office", "fuel", "marketplace", "parking", "library", "community_centre",
                "social_facility", "townhall"},
    "shop": {"mall", "supermarket", "department_store", "convenience"},
}
_HOST_AREA_TAGS = {
    "landuse": {"residential", "retail", "commercial"},
    "shop": {"mall", "supermarket", "department_store"},
    "amenity": {"marketplace", "library", "bus_station", "parking", "fuel", "community_centre"},
    "leisure": {"park"},
    "building": {"commercial", "retail", "apartments", "residential", "yes"},
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def station_weights(districts: pd.DataFrame) -> pd.Series:
    """Each district's weight in the station count: ``population × (0.5 + urban_share)``.

    Parameters
    ----------
    districts : DataFrame
        With columns ``adcode``, ``population`` and ``urban_share``.

    Returns
    -------
    pandas.Series
        Float weights indexed by adcode, sorted by adcode.
    """
    d = districts.sort_values("adcode")
    return pd.Series(d["population"].to_numpy(float) * (0.5 + d["urban_share"].to_numpy(float)),
                     index=pd.Index(d["adcode"].to_numpy(np.int64), name="adcode"), name="weight")


def station_counts(districts: pd.DataFrame, n: int = 426) -> pd.Series:
    """How many of ``n`` stations each district gets, in proportion to :func:`station_weights`.

    Parameters
    ----------
    districts : DataFrame
        With columns ``adcode``, ``population`` and ``urban_share``.
    n : int
        Total number of stations.

    Returns
    -------
    pandas.Series
        int64 counts indexed by adcode, summing to ``n``; each is the floor or the ceiling of the
        exact share ``n × weight / total`` (largest remainders get the ceiling, ties by adcode).
    """
    weights = station_weights(districts)
    exact = n * weights.to_numpy() / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    remainder = exact - counts
    # lexsort sorts by the last key first: descending remainder, then ascending adcode
    order = np.lexsort((weights.index.to_numpy(), -remainder))
    counts[order[: n - int(counts.sum())]] += 1
    return pd.Series(counts, index=weights.index, name="stations")


def generate_stations(districts: gpd.GeoDataFrame, rng: np.random.Generator, n: int = 426, *,
                      now: pd.Timestamp) -> gpd.GeoDataFrame:
    """Generate the demonstration stations layer.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The districts layer (:func:`mapdata.demo.districts.load_districts`), EPSG:4326.
    rng : numpy.random.Generator
        The only source of randomness; the same seed gives identical output.
    n : int
        Number of stations, at least the number of reported stations of each district.
    now : pandas.Timestamp
        The build's clock: ``updated_at`` of every row, and the start of temporary closures.
        A naive timestamp is read as Asia/Shanghai time.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of the ``stations`` schema (:mod:`mapdata.schemas`) and Point geometries in
        EPSG:4326, ids ``st-0001`` … in order (reported stations first, then by district).

    Raises
    ------
    ValueError
        If ``districts`` is not in EPSG:4326 or ``n`` is too small for the reported stations.
    """
    if districts.crs is None or districts.crs.to_epsg() != 4326:
        raise ValueError(f"districts must be in EPSG:4326, got {districts.crs}")
    now = pd.Timestamp(now)
    now = now.tz_localize(TIMEZONE) if now.tzinfo is None else now.tz_convert(TIMEZONE)
    districts = districts.sort_values("adcode").reset_index(drop=True)
    counts = station_counts(districts, n)
    water = _water_mask()

    reported = _reported_rows(districts, water)
    reported_per_district = reported["adcode"].value_counts()
    short = (counts - reported_per_district.reindex(counts.index, fill_value=0)) < 0
    if short.any():
        raise ValueError(f"n={n} is too small: district(s) {list(counts.index[short])} "
                         "get fewer stations than the report names there")

    extent = shapely.box(*OSM_EXTENT)
    hosts = _osm_hosts(districts, water)
    frames = [reported]
    for _, d in districts.iterrows():
        adcode = int(d["adcode"])
        remaining = int(counts[adcode]) - int(reported_per_district.get(adcode, 0))
        polygon = d.geometry
        share = shapely.area(shapely.intersection(polygon, extent)) / shapely.area(polygon)
        k_centre = min(int(round(remaining * share)), int((hosts["adcode"] == adcode).sum()))
        centre = _pick_hosts(hosts[hosts["adcode"] == adcode], k_centre, rng)
        outer = _sample_outside_extent(d, remaining - k_centre, rng, extent, water)
        frames += [centre, outer]
    rows = pd.concat([f for f in frames if len(f)], ignore_index=True)
    return _finish(rows, districts, rng, now)


def _water_mask():
    """Rivers, canals and water areas of the OSM extract, buffered by the clearance, in UTM 48N."""
    lines = read_layer("lines")
    polys = read_layer("multipolygons")
    river_lines = lines[lines["waterway"].isin(["river", "canal"])]
    area_tags = parse_other_tags(polys["other_tags"])
    riverbank = np.array([t.get("waterway") == "riverbank" for t in area_tags], dtype=bool)
    water_areas = polys[(polys["natural"] == "water") | riverbank
                        | polys["landuse"].isin(["basin", "reservoir"])]
    geoms = np.concatenate([river_lines.to_crs(METRIC_EPSG).geometry.values.to_numpy(),
                            water_areas.to_crs(METRIC_EPSG).geometry.values.to_numpy()])
    mask = shapely.union_all(shapely.buffer(shapely.make_valid(geoms), WATER_CLEARANCE_M))
    shapely.prepare(mask)
    return mask


def _off_water(lon: np.ndarray, lat: np.ndarray, water) -> np.ndarray:
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(METRIC_EPSG).values.to_numpy()
    return ~shapely.intersects(water, pts)


def _round(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float), COORD_DECIMALS)


def _reported_rows(districts: gpd.GeoDataFrame, water) -> pd.DataFrame:
    by_name = districts.set_index("name")
    rows = []
    for s in REPORTED_STATIONS:
        lon, lat = float(_round(s.lon)), float(_round(s.lat))
        d = by_name.loc[s.district]
        # a wrong table entry must fail the build, not put a station in the wrong district or a river
        if not shapely.contains_xy(d.geometry, lon, lat):
            raise ValueError(f"reported station {s.name!r} at ({lon}, {lat}) is not inside {s.district}")
        if not _off_water(np.array([lon]), np.array([lat]), water)[0]:
            raise ValueError(f"reported station {s.name!r} at ({lon}, {lat}) is too close to water")
        rows.append({"name": s.name, "adcode": int(d["adcode"]), "district": s.district, "street": s.street,
                     "address": s.address, "operator": s.operator, "amenities": frozenset(s.amenities),
                     "opening_hours": s.opening_hours, "capacity": s.capacity, "lon": lon, "lat": lat,
                     "reported": True})
    return pd.DataFrame(rows)


def _osm_hosts(districts: gpd.GeoDataFrame, water) -> pd.DataFrame:
    """Named OSM places in the extract that can host a station, one per name, with district and road."""
    pts = read_layer("points")
    polys = read_layer("multipolygons")
    pt_tags = parse_other_tags(pts["other_tags"])
    keep_pt = np.array([any(t.get(k) in v for k, v in _HOST_POINT_TAGS.items())
                        for t in pt_tags], dtype=bool)
    keep_area = np.zeros(len(polys), dtype=bool)
    for key, values in _HOST_AREA_TAGS.items():
        keep_area |= polys[key].isin(list(values)).to_numpy()
    # named points are the doors of places, areas are represented by a point inside them
    cand = pd.concat([
        pd.DataFrame({"osm_id": "node/" + pts["osm_id"].astype(str), "name": pts["name"],
                      "geometry": pts.geometry.values, "kind": _point_kind(pt_tags)})[keep_pt],
        pd.DataFrame({"osm_id": np.where(polys["osm_id"].notna(), "relation/" + polys["osm_id"].astype(str),
                                         "way/" + polys["osm_way_id"].astype(str)),
                      "name": polys["name"], "geometry": shapely.point_on_surface(polys.geometry.values),
                      "kind": _area_kind(polys)})[keep_area],
    ], ignore_index=True)
    # a Chinese name, and not a metro or bus stop whose name would make "…站暖新驿站"
    cand = cand[cand["name"].map(lambda v: isinstance(v, str) and bool(_CJK.search(v)) and not v.endswith("站"))]
    cand = cand.sort_values(["name", "osm_id"], kind="stable").drop_duplicates("name")
    cand = cand.sort_values("osm_id", kind="stable").reset_index(drop=True)

    lon, lat = _round(shapely.get_x(cand["geometry"])), _round(shapely.get_y(cand["geometry"]))
    inside = shapely.contains_xy(shapely.box(*OSM_EXTENT), lon, lat) & _off_water(lon, lat, water)
    cand = cand.assign(lon=lon, lat=lat)[inside]
    cand = cand.assign(adcode=_district_of(districts, cand["lon"].to_numpy(), cand["lat"].to_numpy()))
    cand = cand[cand["adcode"] > 0].reset_index(drop=True)
    cand["road"] = _nearest_road(cand["lon"].to_numpy(), cand["lat"].to_numpy())
    return cand.drop(columns="geometry")


def _point_kind(tags: list[dict[str, str]]) -> list[str]:
    out = []
    for t in tags:
        amenity = t.get("amenity")
        out.append(amenity if amenity in ("bank", "post_office", "fuel") else "shop" if "shop" in t else "poi")
    return out


def _area_kind(polys: pd.DataFrame) -> np.ndarray:
    kind = np.full(len(polys), "poi", dtype=object)
    kind[polys["landuse"].isin(["retail", "commercial"]).to_numpy()] = "mall"
    kind[polys["shop"].isin(["mall", "department_store", "supermarket"]).to_numpy()] = "mall"
    kind[polys["landuse"].eq("residential").to_numpy()] = "compound"
    return kind


def _district_of(districts: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The adcode of the district polygon containing each point, 0 if none."""
    out = np.zeros(len(lon), dtype=np.int64)
    for geom, adcode in zip(districts.geometry.values, districts["adcode"].to_numpy(np.int64)):
        out[(out == 0) & shapely.contains_xy(geom, lon, lat)] = adcode
    return out


def _nearest_road(lon: np.ndarray, lat: np.ndarray, max_m: float = 150.0) -> np.ndarray:
    """Name of the nearest named road within ``max_m`` metres, or None."""
    lines = read_layer("lines")
    roads = lines[lines["highway"].notna() & lines["name"].map(lambda v: isinstance(v, str) and bool(_CJK.search(v)))]
    roads = roads.sort_values("osm_id", kind="stable")
    road_geoms = roads.to_crs(METRIC_EPSG).geometry.values.to_numpy()
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(METRIC_EPSG).values.to_numpy()
    tree = shapely.STRtree(road_geoms)
    (src, dst), dist = tree.query_nearest(pts, max_distance=max_m, return_distance=True, all_matches=False)
    names = np.full(len(lon), None, dtype=object)
    names[src] = roads["name"].to_numpy(dtype=object)[dst]
    return names


def _pick_hosts(hosts: pd.DataFrame, k: int, rng: np.random.Generator) -> pd.DataFrame:
    if k == 0:
        return hosts.iloc[:0]
    picked = hosts.iloc[np.sort(rng.choice(len(hosts), size=k, replace=False))]
    return picked.assign(reported=False, place=picked["name"], name=None)


def _spread_km(population: float, urban_share: float) -> float:
    """Standard deviation of the distance of stations from a town centre: a bigger town, wider."""
    return float(np.clip(np.sqrt(population * urban_share) / 250.0, 1.2, 4.0))


def _sample_outside_extent(d: pd.Series, k: int, rng: np.random.Generator, extent, water) -> pd.DataFrame:
    """``k`` points inside district ``d`` and outside the OSM extent, around its urban centres."""
    if k == 0:
        return pd.DataFrame()
    polygon = d.geometry
    region = shapely.difference(polygon, extent)
    shapely.prepare(region)
    centres = [c for c in URBAN_CENTRES if c.district == d["name"]]
    x0, y0, x1, y1 = region.bounds
    lon_out, lat_out, place_out = [], [], []
    have = 0
    for _ in range(200):
        batch = max(64, 4 * k)
        if centres:
            w = np.array([c.weight for c in centres])
            which = rng.choice(len(centres), size=batch, p=w / w.sum())
            clon = np.array([c.lon for c in centres])[which]
            clat = np.array([c.lat for c in centres])[which]
            sigma = _spread_km(d["population"], d["urban_share"])
            lat = clat + rng.normal(0.0, sigma / 111.32, batch)
            lon = clon + rng.normal(0.0, sigma / (111.32 * np.cos(np.radians(clat))), batch)
            place = np.array([c.place for c in centres], dtype=object)[which]
        else:
            # the core districts are urban throughout: anywhere on their land outside the extract
            lon, lat = rng.uniform(x0, x1, batch), rng.uniform(y0, y1, batch)
            place = np.full(batch, None, dtype=object)
        lon, lat = _round(lon), _round(lat)
        ok = shapely.contains_xy(region, lon, lat) & _off_water(lon, lat, water)
        lon_out.append(lon[ok])
        lat_out.append(lat[ok])
        place_out.append(place[ok])
        have += int(ok.sum())
        if have >= k:
            break
    else:
        raise RuntimeError(f"could not place {k} stations in {d['name']}: check its URBAN_CENTRES")
    lon, lat, place = (np.concatenate(a)[:k] for a in (lon_out, lat_out, place_out))
    return pd.DataFrame({"lon": lon, "lat": lat, "town": place, "adcode": int(d["adcode"]),
                         "kind": "generated", "reported": False})


def _street_of(district: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The 街道 whose office is nearest within its radius, among the station's district's offices."""
    best = np.full(len(lon), None, dtype=object)
    best_d = np.full(len(lon), np.inf)
    for s in STREET_OFFICES:
        dy = (lat - s.lat) * 111.32
        dx = (lon - s.lon) * 111.32 * np.cos(np.radians(s.lat))
        dist = np.hypot(dx, dy)
        hit = (district == s.district) & (dist <= s.radius_km) & (dist < best_d)
        best[hit] = s.street
        best_d[hit] = dist[hit]
    return best


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    """A column as an object array with None for missing values (and for a missing column)."""
    if name not in rows:
        return np.full(len(rows), None, dtype=object)
    values = np.array(rows[name], dtype=object)
    values[pd.isna(values)] = None
    return values


def _choice(rng: np.random.Generator, options: tuple[tuple[str, float], ...], size: int) -> np.ndarray:
    values = np.array([o for o, _ in options], dtype=object)
    p = np.array([w for _, w in options], dtype=float)
    return values[rng.choice(len(values), size=size, p=p / p.sum())]


def _finish(rows: pd.DataFrame, districts: gpd.GeoDataFrame, rng: np.random.Generator,
            now: pd.Timestamp) -> gpd.GeoDataFrame:
    """Fill in names, streets, addresses, operators, facilities, hours and status; build the layer."""
    m = len(rows)
    names_by_adcode = dict(zip(districts["adcode"].to_numpy(np.int64), districts["name"].astype(object)))
    rows["adcode"] = rows["adcode"].astype(np.int64)
    district = np.array([names_by_adcode[a] for a in rows["adcode"]], dtype=object)
    lon, lat = rows["lon"].to_numpy(float), rows["lat"].to_numpy(float)
    reported = rows["reported"].to_numpy(bool)
    generated = ~reported

    street = _street_of(district, lon, lat)
    street[reported] = rows.loc[reported, "street"].to_numpy(object)

    # draws happen for every row, in a fixed order, so that a change to one column's rule
    # does not reshuffle the others
    kind = _choice(rng, OPERATOR_KINDS, m)
    company = np.array(COMPANIES, dtype=object)[rng.integers(0, len(COMPANIES), m)]
    suffix = _choice(rng, NAME_SUFFIXES, m)
    hours_draw = {k: _choice(rng, v, m) for k, v in OPENING_HOURS.items()}
    amen_draw = rng.random((m, len(AMENITY_KEYS)))
    cap_draw = rng.random(m)
    phone_draw = rng.random(m)
    phone_digits = rng.integers(0, 10_000_000, m)
    phone_lead = np.array(["8", "6"], dtype=object)[rng.integers(0, 2, m)]
    closed_draw = rng.random(m)
    closed_note = np.array(CLOSED_NOTES, dtype=object)[rng.integers(0, len(CLOSED_NOTES), m)]
    closed_days = rng.integers(CLOSED_DAYS[0], CLOSED_DAYS[1] + 1, m)

    site_kind = np.where(pd.notna(_column(rows, "kind")), _column(rows, "kind"), "")
    # the host decides the operator where it is obvious: a bank or a post office runs its own corner
    place = _column(rows, "place")
    for host_kind, operator_kind in (("bank", "company"), ("post_office", "company"), ("fuel", "company")):
        kind[site_kind == host_kind] = operator_kind
    # a street office runs a station only where the street is known
    kind[(kind == "street_office") & pd.isna(street)] = "trade_union"
    operator = np.where(kind == "trade_union", district + "总工会",
                        np.where(kind == "street_office", district + street.astype(str) + "办事处", company))
    operator[site_kind == "post_office"] = "中国邮政"
    bank = site_kind == "bank"
    operator[bank] = place[bank]
    fuel = site_kind == "fuel"
    operator[fuel] = np.where(pd.Series(place[fuel], dtype=object).str.contains("石油", na=False).to_numpy(),
                              "中国石油", "中国石化")
    operator[reported] = rows.loc[reported, "operator"].to_numpy(object)

    # names: the host place where there is one, else the street or town, numbered when repeated
    town = _column(rows, "town")
    area = np.where(pd.notna(place), place,
                    np.where(pd.notna(street), street, np.where(pd.notna(town), town, district)))
    name = np.array([f"{a}{x}" for a, x in zip(area, suffix)], dtype=object)
    name[reported] = rows.loc[reported, "name"].to_numpy(object)
    dup = pd.Series(name).groupby(name).cumcount().to_numpy() + 1
    repeated = pd.Series(name).duplicated(keep=False).to_numpy() & generated
    name[repeated] = [f"{nm}({k}号)" for nm, k in zip(name[repeated], dup[repeated])]

    road = _column(rows, "road")
    address = np.array([f"成都市{d}{s or (t + '片区' if t else '')}{r or ''}{p or ''}"
                        for d, s, t, r, p in zip(district, street, town, road, place)], dtype=object)
    address[reported] = rows.loc[reported, "address"].to_numpy(object)

    probs = np.array([AMENITY_PROBABILITY[k] for k in AMENITY_KEYS])
    has = amen_draw < probs
    keys = np.array(AMENITY_KEYS, dtype=object)
    amenities = np.array([frozenset(keys[row]) for row in has], dtype=object)
    amenities[reported] = rows.loc[reported, "amenities"].to_numpy(object)

    hours = np.empty(m, dtype=object)
    for k, draw in hours_draw.items():
        hours[kind == k] = draw[kind == k]
    # a mall keeps mall hours
    hours[site_kind == "mall"] = "Mo-Su 10:00-22:00"
    hours[reported] = rows.loc[reported, "opening_hours"].to_numpy(object)

    lo = np.array([CAPACITY_RANGE[k][0] for k in kind])
    hi = np.array([CAPACITY_RANGE[k][1] for k in kind])
    capacity = (lo + np.floor(cap_draw * (hi - lo + 1))).astype(np.int64)
    capacity[reported] = rows.loc[reported, "capacity"].to_numpy(np.int64)

    phone = np.array([f"028-{lead}{digits:07d}" for lead, digits in zip(phone_lead, phone_digits)], dtype=object)
    phone[phone_draw < NO_PHONE_SHARE] = None

    closed = (closed_draw < CLOSED_SHARE) & generated
    status = np.where(closed, "closed_temporarily", "open").astype(object)
    note = np.where(closed, closed_note, None).astype(object)
    until = pd.Series(now.normalize() + pd.to_timedelta(closed_days, unit="D") + pd.Timedelta(hours=18))
    until = until.where(closed, pd.NaT).astype(f"datetime64[ns, {TIMEZONE}]")

    out = gpd.GeoDataFrame({
        "id": [f"st-{i:04d}" for i in range(1, m + 1)],
        "name": name,
        "adcode": rows["adcode"].to_numpy(np.int64),
        "district": district,
        "street": street,
        "address": address,
        "operator": operator,
        "phone": phone,
        "amenities": amenities,
        "amenities_out": [frozenset()] * m,
        "opening_hours": hours,
        "status": status,
        "status_note": note,
        "status_until": until,
        "capacity": capacity,
        # staff confirmed the entries within the last two months (a spread, no draw: the stream stays as it was)
        "confirmed_at": pd.Series(now.normalize() - pd.to_timedelta((np.arange(m) * 7919) % 61, unit="D")
                                  + pd.Timedelta(hours=10)).astype(f"datetime64[ns, {TIMEZONE}]"),
        "confirmed_by": UPDATED_BY,
        "retired_at": pd.Series(pd.NaT, index=range(m), dtype=f"datetime64[ns, {TIMEZONE}]"),
        "version": np.ones(m, dtype=np.int64),
        "updated_at": pd.Series([now] * m, dtype=f"datetime64[ns, {TIMEZONE}]"),
        "updated_by": UPDATED_BY,
    }, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    return out
