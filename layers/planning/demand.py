"""Planners' uploads of demand and of candidate sites (CSV or GeoJSON; WGS-84, GCJ-02 or BD-09), checked all-or-nothing."""
from __future__ import annotations

import base64
import binascii
import io
import json
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata.crs import CHENGDU_BOUNDS, to_wgs84
from mapdata.vocabulary import INPUT_CRS, TIMEZONE

MAX_ROWS = 1_000_000
#: The largest weight one point may carry: far above any count of orders, small enough that a
#: million of them add up to a finite total.
MAX_WEIGHT = 1e12
#: The longest message an upload's refusal carries.
MAX_MESSAGE_CHARS = 1000
#: At most this many problems are listed; the message still gives the total.
MAX_PROBLEMS = 100
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")
GEOJSON_TYPES = ("application/geo+json", "application/json", "application/vnd.geo+json")
#: Accepted spellings of the coordinate columns (case and surrounding spaces are ignored).
_ALIASES = {"lon": ("lon", "lng", "longitude", "x"), "lat": ("lat", "latitude", "y"),
            "weight": ("weight",), "time": ("time",), "name": ("name", "名称")}
#: The fields of a demand file and of a planner's list of candidate sites.
DEMAND_FIELDS = ("lon", "lat", "weight", "time")
SITE_FIELDS = ("lon", "lat", "name")
_NUMERIC = ("lon", "lat", "weight")
#: A planner's own candidate sites: the default set has about 15,000 sites, a planner's list stays below.
MAX_SITE_ROWS = 20_000
#: The longest site name kept (longer names are cut).
MAX_NAME_CHARS = 200
#: A demand upload of 1,000,000 CSV rows is about 30 MB; twice that leaves room for weights and
#: GeoJSON's longer rows without letting one request fill the server's memory.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
#: File name extensions of uploads and the content type each stands for.
EXTENSION_TYPES = {".csv": "text/csv", ".txt": "text/csv", ".geojson": "application/geo+json",
                   ".json": "application/geo+json"}
_CRS_LABEL = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


class DemandUploadError(ValueError):
    """An upload was refused; nothing of it was loaded.

    Attributes
    ----------
    problems : list of dict
        Up to :data:`MAX_PROBLEMS` entries ``{"row": n, "field": name, "message": text}``; ``row``
        is the 1-based data row (CSV: the header is not counted, so row 1 is the file's second
        line; GeoJSON: the feature's position in ``features``, from 1), or None for a problem with
        the whole file.
    message : str
        One sentence for the planner, with the total number of bad rows and any hint.
    """

    def __init__(self, problems: list[dict], message: str):
        # nothing a client sent is echoed at length: a 60 MB one-line file must not make a 120 MB answer
        self.problems = [{**p, "message": _clip(p.get("message"))} for p in problems[:MAX_PROBLEMS]]
        self.message = _clip(message, MAX_MESSAGE_CHARS)
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"message": self.message, "problems": list(self.problems)}


@dataclass(frozen=True)
class DemandPoints:
    """Demand points from an upload, in WGS-84.

    Attributes
    ----------
    lon, lat : numpy.ndarray of float64
        WGS-84 degrees (converted from the upload's CRS).
    weight : numpy.ndarray of float64
        Non-negative; 1.0 where the upload gave none.
    time : numpy.ndarray of datetime64[ns] or None
        UTC instants (NaT where a row left it empty), None without a ``time`` column; see
        :attr:`local_time`.
    row_numbers : numpy.ndarray of int64
        The 1-based data row each point came from (see :class:`DemandUploadError`).
    crs : str
        The CRS the upload was declared in.
    """

    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray
    time: np.ndarray | None
    row_numbers: np.ndarray
    crs: str

    def __len__(self) -> int:
        return len(self.lon)

    @property
    def local_time(self) -> pd.DatetimeIndex | None:
        """:attr:`time` as Asia/Shanghai wall-clock times."""
        if self.time is None:
            return None
        return pd.DatetimeIndex(self.time).tz_localize("UTC").tz_convert(TIMEZONE)


def _clip(text, limit: int = 300) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _fail(problems: list[dict], message: str):
    raise DemandUploadError(problems[:MAX_PROBLEMS], message)


def _file_problem(field: str | None, message: str):
    _fail([{"row": None, "field": field, "message": message}], message)


def _kind(data: bytes, content_type: str) -> str:
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in GEOJSON_TYPES or ctype.endswith("+json"):
        return "geojson"
    if ctype in CSV_TYPES:
        return "csv"
    # browsers send application/octet-stream or nothing for unknown extensions: look at the bytes
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "geojson"
    if ctype in ("", "application/octet-stream"):
        return "csv"
    _file_problem(None, f"unsupported file type {content_type!r}: upload CSV (text/csv) or GeoJSON "
                        "(application/geo+json)")


def parse_demand_upload(data: bytes, content_type: str, crs: str, outline, max_rows: int = MAX_ROWS) -> DemandPoints:
    """Read a planner's demand file, convert it to WGS-84 and check every row.

    CSV: UTF-8 (a BOM is fine), a header row with ``lon`` and ``lat`` (also ``lng``/``longitude``,
    ``latitude``; any case) and optionally ``weight`` (a non-negative number; 1 when the column is
    absent) and ``time`` (ISO 8601; without an offset it is Asia/Shanghai time; an empty cell is
    allowed). Other columns are ignored. Rows are numbered from 1 for the first data row, the
    header not counted; a quoted cell holding a line break does not start a new row.

    GeoJSON: a FeatureCollection of Point features; optional ``weight`` and ``time`` properties.
    Rows are the features' positions, from 1. RFC 7946 says WGS-84; files exported from Chinese
    maps are often GCJ-02 or BD-09 nonetheless, which is what ``crs`` declares.

    All or nothing: one bad row refuses the whole file, listing up to :data:`MAX_PROBLEMS` bad
    rows with the row number, the field and what is wrong.

    Parameters
    ----------
    data : bytes
        The file's content.
    content_type : str
        ``text/csv`` or ``application/geo+json`` (``application/json`` too); for an unknown type
        the content decides.
    crs : {"wgs84", "gcj02", "bd09"}
        The coordinate system of the file.
    outline : shapely geometry
        Chengdu's outline in WGS-84 (:func:`mapdata.demo.districts.chengdu_outline`); a point must
        lie inside it after conversion.
    max_rows : int
        Most rows accepted.

    Returns
    -------
    DemandPoints

    Raises
    ------
    DemandUploadError
        For an empty file, a missing column, too many rows, or bad rows: numbers that are not
        numbers, negative or missing weights, unreadable times, points outside Chengdu (with a
        hint when they would fall inside under another CRS, or with longitude and latitude
        swapped).
    ValueError
        For an unknown ``crs`` (a programming error, not a planner's).
    """
    col, rows = _read_upload(data, content_type, crs, max_rows, DEMAND_FIELDS)
    return _check(col["lon"], col["lat"], col.get("weight"), col.get("time"), rows, crs, outline)


def _read_upload(data, content_type: str, crs: str, max_rows: int, fields):
    """The checks every upload starts with, then its columns and row numbers."""
    if crs not in INPUT_CRS:
        raise ValueError(f"unknown coordinate system {crs!r}; expected one of {', '.join(INPUT_CRS)}")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        _file_problem(None, "the file is empty")
    return _read(data, content_type, max_rows, fields)


def parse_candidate_upload(data: bytes, content_type: str, crs: str, outline,
                           max_rows: int = MAX_SITE_ROWS) -> gpd.GeoDataFrame:
    """Read a planner's own candidate sites for new stations, convert them to WGS-84 and check every row.

    The same files as :func:`parse_demand_upload` (CSV with a header, or a GeoJSON FeatureCollection
    of Points), with ``lon``, ``lat`` and an optional ``name`` (a column, or a feature property)
    instead of weights and times; the same row numbers, all-or-nothing checks and errors.

    Returns
    -------
    GeoDataFrame
        ``row`` (the 1-based data row), ``name`` (None where empty; cut to
        :data:`MAX_NAME_CHARS`) and Point ``geometry`` in EPSG:4326.

    Raises
    ------
    DemandUploadError
        As :func:`parse_demand_upload`: numbers that are not numbers, sites outside Chengdu, too
        many rows (``max_rows``), an unreadable file.
    """
    col, rows = _read_upload(data, content_type, crs, max_rows, SITE_FIELDS)
    points = _check(col["lon"], col["lat"], None, None, rows, crs, outline)
    names = col.get("name")
    if names is None:
        names = np.full(len(rows), None, dtype=object)
    else:
        names = np.array([(str(v).strip()[:MAX_NAME_CHARS] or None) if v is not None and not
                          (isinstance(v, float) and np.isnan(v)) else None for v in names], dtype=object)
    # object dtype: pandas' string inference would turn a missing name into NaN
    return gpd.GeoDataFrame({"row": points.row_numbers, "name": pd.Series(names, dtype=object)},
                            geometry=gpd.points_from_xy(points.lon, points.lat), crs="EPSG:4326")


def content_type_of(filename) -> str:
    """The content type an uploaded file's name stands for (``.csv``, ``.txt``, ``.geojson``, ``.json``).

    Raises
    ------
    DemandUploadError
        For another extension or no file name.
    """
    name = filename if isinstance(filename, str) else ""
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in EXTENSION_TYPES:
        _file_problem(None, f"{(name[:60] or 'the file')!r} is neither CSV (.csv) nor GeoJSON (.geojson, .json)")
    return EXTENSION_TYPES[ext]


def decode_data_url(contents, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """The bytes of a base64 ``data:`` URL (as a browser's file reader gives them), checked and bounded.

    Raises
    ------
    DemandUploadError
        For anything that is not a base64 data URL, or content larger than ``max_bytes``.
    """
    if not isinstance(contents, str) or not contents.startswith("data:") or ";base64," not in contents[:200]:
        _file_problem(None, "the upload did not arrive as a file")
    payload = contents.split(";base64,", 1)[1]
    # checked before decoding: base64 is 4 characters for 3 bytes
    if len(payload) > (max_bytes // 3 + 1) * 4:
        _file_problem(None, f"the file is larger than {max_bytes // (1024 * 1024)} MB; split it into several files")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        _file_problem(None, "the upload is not valid base64 data")


# ---------------------------------------------------------------------------------------------
# reading

def _too_many(rows: int, max_rows: int):
    _file_problem(None, f"{rows:,} rows; at most {max_rows:,} can be uploaded")


def _read(data: bytes, content_type: str, max_rows: int, fields: tuple[str, ...]):
    """({field: values}, row numbers) of a CSV or GeoJSON upload; ``lon`` and ``lat`` are required."""
    if _kind(data, content_type) == "geojson":
        return _read_geojson(data, max_rows, fields)
    return _read_csv(data, max_rows, fields)


def _read_csv(data: bytes, max_rows: int, fields: tuple[str, ...] = DEMAND_FIELDS):
    try:
        header = pd.read_csv(io.BytesIO(data), nrows=0, encoding="utf-8-sig", encoding_errors="replace")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        _file_problem(None, f"not a readable CSV file ({_clip(str(exc).splitlines()[0], 200)})")
    names = [str(c).strip().lower() for c in header.columns]
    found: dict[str, str] = {}
    for field in fields:
        aliases = _ALIASES[field]
        hits = [orig for orig, low in zip(header.columns, names) if low in aliases]
        if len(hits) > 1:
            _file_problem(field, f"more than one column for {field}: {', '.join(map(str, hits))}")
        if hits:
            found[field] = hits[0]
    missing = [f for f in ("lon", "lat") if f not in found]
    if missing:
        seen = _clip(", ".join(map(str, header.columns)) or "none", 120)
        _file_problem(missing[0], f"the header must name columns lon and lat (found: {seen}); the first "
                                  "row of a CSV file is its header")
    numeric = [found[f] for f in _NUMERIC if f in found]
    text = [c for f, c in found.items() if f not in _NUMERIC]
    frame = None
    try:
        # The C parser reads clean numbers ten times faster than text + to_numeric; any cell it
        # cannot read (or reads as NaN) sends the file down the text path, which names the rows.
        frame = pd.read_csv(io.BytesIO(data), usecols=list(found.values()),
                            dtype={**{c: np.float64 for c in numeric}, **{c: str for c in text}},
                            encoding="utf-8-sig", encoding_errors="replace", skip_blank_lines=True,
                            nrows=max_rows + 1)
        if len(frame) <= max_rows and frame[numeric].isna().to_numpy().any():
            frame = None
    except (pd.errors.ParserError, ValueError, OverflowError):
        frame = None
    if frame is None:
        try:
            frame = pd.read_csv(io.BytesIO(data), usecols=list(found.values()), dtype=str, keep_default_na=False,
                                na_filter=False, encoding="utf-8-sig", encoding_errors="replace",
                                skip_blank_lines=True, nrows=max_rows + 1)
        except (pd.errors.ParserError, ValueError) as exc:
            _file_problem(None, f"not a readable CSV file ({_clip(str(exc).splitlines()[0], 200)})")
    if len(frame) > max_rows:
        # counting lines is exact for files without quoted line breaks, and cheap
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        _too_many(max(lines - 1, max_rows + 1), max_rows)
    if len(frame) == 0:
        _file_problem(None, "the file has a header but no data rows")
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    col = {f: (frame[c].to_numpy() if pd.api.types.is_float_dtype(frame[c])
               else frame[c].fillna("").to_numpy(dtype=object)) for f, c in found.items()}
    return col, rows


#: What a feature without the property stands for.
_PROPERTY_DEFAULT = {"weight": 1.0, "time": "", "name": None}


def _read_geojson(data: bytes, max_rows: int, fields: tuple[str, ...] = DEMAND_FIELDS):
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        _file_problem(None, "not valid JSON for an upload: nested too deeply")
    except ValueError as exc:  # bad JSON, bad UTF-8, or an integer of thousands of digits
        _file_problem(None, f"not valid JSON ({_clip(str(exc))})")
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        _file_problem(None, "expected a GeoJSON FeatureCollection with a list of features")
    named = doc.get("crs")
    if isinstance(named, dict):
        name = str((named.get("properties") or {}).get("name", ""))
        if name and not re.search(r"(CRS84|EPSG:{1,2}4326)$", name):
            _file_problem(None, f"the file declares the CRS {name}; only longitude/latitude files (WGS-84, "
                                "GCJ-02 or BD-09) can be uploaded")
    features = doc["features"]
    if len(features) > max_rows:
        _too_many(len(features), max_rows)
    if not features:
        _file_problem(None, "the FeatureCollection has no features")
    n = len(features)
    lon = np.empty(n, dtype=object)
    lat = np.empty(n, dtype=object)
    props_wanted = [f for f in fields if f not in ("lon", "lat")]
    values = {f: np.empty(n, dtype=object) for f in props_wanted}
    present = dict.fromkeys(props_wanted, False)
    problems = []
    for pos, feature in enumerate(features):
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            kind = geom.get("type") if isinstance(geom, dict) else None
            problems.append({"row": pos + 1, "field": "geometry",
                             "message": f"expected a Point with [lon, lat], got {kind or 'no geometry'}"})
            lon[pos] = lat[pos] = ""
        else:
            lon[pos], lat[pos] = coords[0], coords[1]
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        for field in props_wanted:
            # a weight given as null is a bad weight; a time or name given as null is none
            if field in props and (field == "weight" or props[field] is not None):
                present[field] = True
                values[field][pos] = props[field]
            else:
                values[field][pos] = _PROPERTY_DEFAULT[field]
    if problems:
        _fail(problems, f"{len(problems):,} feature(s) are not points; nothing was loaded")
    rows = np.arange(1, n + 1, dtype=np.int64)
    col = {"lon": lon, "lat": lat, **{f: v for f, v in values.items() if present[f]}}
    return col, rows


# ---------------------------------------------------------------------------------------------
# checking

def _numbers(values: np.ndarray) -> np.ndarray:
    """Each value as a float, NaN where it is not a finite number (booleans are not numbers)."""
    def text(v):
        return "" if v is None or isinstance(v, bool) else v

    if values.dtype.kind == "f":
        out = values.astype(float, copy=True)
        out[~np.isfinite(out)] = np.nan
        return out
    series = pd.Series(values, dtype=object)
    if not series.map(type).eq(str).all():
        series = series.map(text)
    # to_numeric reads surrounding spaces, "1e3" and "inf" (refused below) but not "1,5"
    out = np.array(pd.to_numeric(series, errors="coerce"), dtype=float)
    out[~np.isfinite(out)] = np.nan
    return out


def _problems_for(bad: np.ndarray, rows: np.ndarray, field: str, message_of) -> list[dict]:
    where = np.flatnonzero(bad)[:MAX_PROBLEMS]
    return [{"row": int(rows[i]), "field": field, "message": message_of(i)} for i in where]


def _shown(value) -> str:
    text = "" if value is None else str(value)
    return "an empty cell" if not text.strip() else repr(text if len(text) <= 40 else text[:37] + "...")


def _parse_times(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(UTC datetime64[ns], bad mask): naive times are Asia/Shanghai, empty cells NaT."""
    text = pd.Series(values, dtype=object).map(lambda v: "" if v is None else str(v).strip())
    empty = text.eq("").to_numpy()
    aware = text.str.contains(_OFFSET).to_numpy() & ~empty
    naive = ~aware & ~empty
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    bad = np.zeros(len(text), dtype=bool)
    if naive.any():
        t = pd.to_datetime(text[naive], errors="coerce", format="ISO8601")
        ok = t.notna().to_numpy()
        local = pd.DatetimeIndex(t[ok]).tz_localize(TIMEZONE, ambiguous="NaT", nonexistent="NaT")
        idx = np.flatnonzero(naive)
        out[idx[ok]] = local.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")
        bad[idx[~ok]] = True
    if aware.any():
        t = pd.to_datetime(text[aware], errors="coerce", format="ISO8601", utc=True)
        ok = t.notna().to_numpy()
        idx = np.flatnonzero(aware)
        out[idx[ok]] = pd.DatetimeIndex(t[ok]).tz_localize(None).to_numpy(dtype="datetime64[ns]")
        bad[idx[~ok]] = True
    return out, bad


def _inside(outline, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = CHENGDU_BOUNDS
    # the bounding box settles most points far away before the polygon test
    box = np.isfinite(lon) & np.isfinite(lat) & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    out = np.zeros(len(lon), dtype=bool)
    if box.any():
        out[box] = shapely.contains_xy(outline, lon[box], lat[box])
    return out


def _hint(outline, lon: np.ndarray, lat: np.ndarray, crs: str) -> str:
    """Why points fall outside Chengdu, when another reading of the file would put them inside."""
    n = len(lon)
    if n == 0:
        return ""
    if np.nanmedian(np.abs(lon)) > 180 and np.nanmedian(np.abs(lat)) > 180:
        return " The coordinates look like metres of a projected CRS; convert them to longitude/latitude."
    degrees = (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    best, best_inside = None, 0
    for other in INPUT_CRS:
        if other == crs:
            continue
        olon, olat = to_wgs84(lon[degrees], lat[degrees], other)
        inside = int(_inside(outline, olon, olat).sum())
        if inside > best_inside:
            best, best_inside = other, inside
    if best is not None and best_inside >= 0.5 * n:
        return (f" These points would lie inside Chengdu as {_CRS_LABEL[best]}: the file looks like "
                f"{_CRS_LABEL[best]}; choose that coordinate system.")
    swappable = (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
    slon, slat = to_wgs84(lat[swappable], lon[swappable], crs)
    if int(_inside(outline, slon, slat).sum()) >= 0.5 * n:
        return " Longitude and latitude look swapped: lon is about 104, lat about 30.7 in Chengdu."
    return ""


def _check(lon_text, lat_text, weight_text, time_text, rows, crs: str, outline) -> DemandPoints:
    shapely.prepare(outline)
    problems: list[dict] = []
    lon_raw = _numbers(lon_text)
    lat_raw = _numbers(lat_text)
    bad_lon, bad_lat = np.isnan(lon_raw), np.isnan(lat_raw)
    problems += _problems_for(bad_lon, rows, "lon", lambda i: f"{_shown(lon_text[i])} is not a number")
    problems += _problems_for(bad_lat, rows, "lat", lambda i: f"{_shown(lat_text[i])} is not a number")
    if weight_text is None:
        weight = np.ones(len(rows))
        bad_weight = np.zeros(len(rows), dtype=bool)
    else:
        weight = _numbers(weight_text)
        bad_weight = np.isnan(weight) | (weight < 0) | (weight > MAX_WEIGHT)
        problems += _problems_for(bad_weight, rows, "weight",
                                  lambda i: (f"{_shown(weight_text[i])} is negative" if weight[i] < 0
                                             else f"{_shown(weight_text[i])} is more than {MAX_WEIGHT:.0e}"
                                             if weight[i] > MAX_WEIGHT
                                             else f"{_shown(weight_text[i])} is not a number")
                                  + f"; a weight is a number from 0 to {MAX_WEIGHT:.0e}")
    when, bad_time = (None, np.zeros(len(rows), dtype=bool)) if time_text is None else _parse_times(time_text)
    if time_text is not None:
        problems += _problems_for(bad_time, rows, "time",
                                  lambda i: f"{_shown(time_text[i])} is not an ISO 8601 time such as 2026-03-04T12:30")
    numeric = ~(bad_lon | bad_lat)
    lon = np.full(len(rows), np.nan)
    lat = np.full(len(rows), np.nan)
    in_range = numeric & (np.abs(np.where(numeric, lon_raw, 0)) <= 180) & (np.abs(np.where(numeric, lat_raw, 0)) <= 90)
    if in_range.any():
        lon[in_range], lat[in_range] = to_wgs84(lon_raw[in_range], lat_raw[in_range], crs)
    outside = numeric & ~_inside(outline, lon, lat)
    hint = _hint(outline, lon_raw[outside], lat_raw[outside], crs) if outside.any() else ""
    problems += _problems_for(outside, rows, "geometry",
                              lambda i: f"({lon_raw[i]:.6f}, {lat_raw[i]:.6f}) as {_CRS_LABEL[crs]} "
                                        "lies outside Chengdu")
    bad = bad_lon | bad_lat | bad_weight | bad_time | outside
    if bad.any():
        problems.sort(key=lambda p: (p["row"], p["field"]))
        n_bad = int(bad.sum())
        _fail(problems, f"{n_bad:,} of {len(rows):,} rows have problems; nothing was loaded "
                        f"(the first {min(len(problems), MAX_PROBLEMS)} are listed).{hint}")
    return DemandPoints(lon, lat, weight.astype(float), when, rows, crs)


def planner_sites(lon, lat, crs: str, outline, names=None, ids=None) -> gpd.GeoDataFrame:
    """A planner's own candidate sites given as coordinates (the siting API's body), converted and checked.

    Parameters
    ----------
    lon, lat : array_like of float
        In ``crs``.
    crs : {"wgs84", "gcj02", "bd09"}
    outline : shapely geometry
        Chengdu's outline in WGS-84, prepared.
    names, ids : sequence of str or None, optional
        Per site; a missing id becomes ``planner-<row>``.

    Returns
    -------
    GeoDataFrame
        ``id``, ``name``, ``source`` (``planner``) and Point ``geometry`` in EPSG:4326.

    Raises
    ------
    DemandUploadError
        Listing by row (from 1) the sites that lie outside Chengdu; nothing is kept.
    """
    raw_lon, raw_lat = np.asarray(lon, dtype=float).reshape(-1), np.asarray(lat, dtype=float).reshape(-1)
    x, y = to_wgs84(raw_lon, raw_lat, crs)
    x, y = np.asarray(x, dtype=float).reshape(-1), np.asarray(y, dtype=float).reshape(-1)
    outside = np.flatnonzero(~_inside(outline, x, y))
    if len(outside):
        rows = [{"row": int(i) + 1, "field": "candidates",
                 "message": f"({raw_lon[i]:.6f}, {raw_lat[i]:.6f}) as {crs} lies outside Chengdu"}
                for i in outside[:MAX_PROBLEMS]]
        _fail(rows, f"{len(outside):,} of {len(x):,} candidate sites lie outside Chengdu; rows are numbered from 1")
    n = len(x)
    names = list(names) if names is not None else [None] * n
    ids = [i or f"planner-{k + 1}" for k, i in enumerate(ids if ids is not None else [None] * n)]
    return gpd.GeoDataFrame({"id": pd.Series(ids, dtype=object), "name": pd.Series(names, dtype=object),
                             "source": pd.Series(["planner"] * n, dtype=object)},
                            geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
