"""National coverage on one machine: demand streamed from a CSV or (Geo)Parquet file in chunks, the same coverage
per point as :class:`layers.planning.coverage.CoverageModel`, reduced to the same city / district / hexagon tables.

Memory is bounded by the chunk (a few hundred bytes a row in pandas while it parses, about 100 bytes a
point after; a Parquet file is read a row group at a time, 1,048,576 rows as pyarrow writes them) plus the
station index and one accumulator row per district and per hexagon with demand; it does not grow with the
file's rows. Straight-line (great-circle) distance only: riding distances
need the road network's Dijkstra rows per station, which a chunk cannot amortise (see docs/decisions.md).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from layers.common.districts import district_index
from layers.common.geodesy import check_radius
from layers.common.hours import HoursTable
from layers.planning.coverage import DEFAULT_H3_RES, CoverageModel, CoverageResult, h3_codes

#: Rows per chunk by default: ~250 MB of parsing and coverage work at the peak, whatever the file.
DEFAULT_CHUNK_ROWS = 1_000_000
#: The largest chunk accepted: past it one chunk alone could take gigabytes.
MAX_CHUNK_ROWS = 5_000_000
#: Accepted spellings of the columns (case and surrounding spaces are ignored), as for uploads.
ALIASES = {"lon": ("lon", "lng", "longitude", "x"), "lat": ("lat", "latitude", "y"), "weight": ("weight",)}
CSV_SUFFIXES = (".csv", ".txt", ".csv.gz", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".gpq")
#: The coordinate systems a GeoParquet's points may state: WGS-84 longitude/latitude (GeoParquet keeps x, y as
#: longitude, latitude whatever the axis order of the CRS); no ``crs`` key means OGC:CRS84 by the specification.
_WGS84 = ("OGC:CRS84", "EPSG:4326")
_DISTRICT_COLUMNS = ["adcode", "name", "name_en", "demand", "covered", "share", "points", "points_covered",
                     "point_share"]
_HEX_COLUMNS = ["h3", "demand", "covered", "uncovered", "points", "points_covered"]
#: A point farther than this from every district known (about 1 km) is counted outside them, not in the
#: nearest one: with a city's districts in the store, a national file's points elsewhere are not that city's.
OUTSIDE_DEGREES = 0.01
#: The row of the district table for the points outside every district known (only when there are some).
OUTSIDE_ROW = {"adcode": 0, "name": "区划外", "name_en": "outside the districts"}


class NationalInputError(ValueError):
    """A demand file was refused: ``path``, ``row`` (1-based data row, the header not counted; None for
    the whole file), ``field`` (``lon``, ``lat``, ``weight`` or None) and the ``message``."""

    def __init__(self, path, row: int | None, field: str | None, problem: str):
        self.path, self.row, self.field, self.problem = str(path), row, field, problem
        where = self.path if row is None else f"{self.path}, row {row:,}"
        super().__init__(f"{where}{'' if field is None else f', field {field}'}: {problem}")


@dataclass(frozen=True)
class DemandChunk:
    """One chunk of demand points: WGS-84 degrees and non-negative weights; ``first_row`` is the
    1-based data row of its first point."""

    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray
    first_row: int

    def __len__(self) -> int:
        return len(self.lon)


class DemandFile:
    """A file of demand points read in chunks: CSV (columns ``lon``, ``lat`` and optionally ``weight``), or
    Parquet — a GeoParquet file's point geometry (WKB or GeoArrow "point" encoding, WGS-84) or a plain one's
    ``lon``/``lat`` columns, with an optional ``weight`` column either way.

    Iterating yields :class:`DemandChunk` of at most ``chunk_rows`` points, one at a time: the reader
    holds no more than the chunk it is parsing (a Parquet file: the row group it is in). Every cell is
    checked as it is read (a number, finite, longitude in [-180, 180], latitude in [-90, 90], weight at
    least 0; a geometry a point); the first bad cell raises :class:`NationalInputError` naming the file,
    the row and the field. Blank lines of a CSV are skipped and not counted. ``.gz`` files are read
    compressed. A Parquet file's ``bytes_read`` is its size times the share of its rows read.

    Attributes
    ----------
    total_bytes : int
        The file's size.
    bytes_read, rows_read : int
        How far the reader has come (for a progress bar).
    """

    def __init__(self, path, chunk_rows: int = DEFAULT_CHUNK_ROWS):
        self.path = Path(path)
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) \
                or not 1 <= chunk_rows <= MAX_CHUNK_ROWS:
            raise ValueError(f"chunk_rows must be an integer from 1 to {MAX_CHUNK_ROWS:,}, got {chunk_rows!r}")
        self.chunk_rows = int(chunk_rows)
        name = self.path.name.lower()
        self.parquet = name.endswith(PARQUET_SUFFIXES)
        if not self.parquet and not name.endswith(CSV_SUFFIXES):
            raise NationalInputError(self.path, None, None, "expected a CSV file "
                                     f"({', '.join(CSV_SUFFIXES)}) or a Parquet file ({', '.join(PARQUET_SUFFIXES)})")
        if not self.path.is_file():
            raise NationalInputError(self.path, None, None, "no such file")
        self.compression = "gzip" if name.endswith(".gz") else None
        self.total_bytes = self.path.stat().st_size
        self.bytes_read = 0
        self.rows_read = 0
        self.geometry: str | None = None  # a GeoParquet file's point column
        self.encoding: str | None = None  # its encoding: "WKB" or "POINT" (GeoArrow's struct of x, y)
        self.columns = self._parquet_columns() if self.parquet else self._columns()

    def _columns(self) -> dict[str, str]:
        try:
            header = pd.read_csv(self.path, nrows=0, encoding="utf-8-sig", compression=self.compression)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
            raise NationalInputError(self.path, None, None,
                                     f"not a readable CSV file ({str(exc).splitlines()[0][:200]})") from None
        found: dict[str, str] = {}
        for field, aliases in ALIASES.items():
            hits = [c for c in header.columns if str(c).strip().lower() in aliases]
            if len(hits) > 1:
                raise NationalInputError(self.path, None, field,
                                         f"more than one column for {field}: {', '.join(map(str, hits))}")
            if hits:
                found[field] = hits[0]
        for field in ("lon", "lat"):
            if field not in found:
                seen = ", ".join(map(str, header.columns))[:120] or "none"
                raise NationalInputError(self.path, None, field, f"the header must name columns lon and lat "
                                                                 f"(found: {seen})")
        return found

    def _parquet_file(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise NationalInputError(self.path, None, None,
                                     f"not a readable Parquet file ({str(exc).splitlines()[0][:200]})") from None

    def _parquet_columns(self) -> dict[str, str]:
        import json

        import pyarrow as pa

        pf = self._parquet_file()
        names = list(pf.schema_arrow.names)
        meta = pf.schema_arrow.metadata or {}
        found: dict[str, str] = {}
        weight = [c for c in names if c.strip().lower() in ALIASES["weight"]]
        if len(weight) > 1:
            raise NationalInputError(self.path, None, "weight", f"more than one column for weight: {', '.join(weight)}")
        if weight:
            found["weight"] = weight[0]
        if b"geo" in meta:
            try:
                geo = json.loads(meta[b"geo"])
                column = geo["primary_column"]
                spec = geo["columns"][column]
            except (ValueError, KeyError, TypeError):
                raise NationalInputError(self.path, None, "geometry", "the GeoParquet metadata ('geo') is not "
                                         "readable: it must name its primary_column and describe it") from None
            encoding = str(spec.get("encoding", "")).upper()
            if encoding not in ("WKB", "POINT"):
                raise NationalInputError(self.path, None, "geometry", f"geometry encoding {spec.get('encoding')!r} "
                                         "is not read; write it as WKB (the GeoParquet default) or as points")
            self._check_crs(spec)
            if column not in names:
                raise NationalInputError(self.path, None, "geometry", f"the primary column {column!r} is missing")
            if encoding == "POINT":
                kind = pf.schema_arrow.field(column).type
                if not (pa.types.is_struct(kind) and {"x", "y"} <= {kind.field(i).name for i in range(kind.num_fields)}):
                    raise NationalInputError(self.path, None, "geometry", f"a column of encoding 'point' must be a "
                                             f"struct of x and y, got {kind}")
            self.geometry, self.encoding = column, encoding
            return found
        for field in ("lon", "lat"):
            hits = [c for c in names if c.strip().lower() in ALIASES[field]]
            if len(hits) > 1:
                raise NationalInputError(self.path, None, field,
                                         f"more than one column for {field}: {', '.join(hits)}")
            if not hits:
                seen = ", ".join(names)[:120] or "none"
                raise NationalInputError(self.path, None, field, "a Parquet file must be GeoParquet (point "
                                         f"geometry) or have columns lon and lat (found: {seen})")
            found[field] = hits[0]
        return found

    def _check_crs(self, spec: dict) -> None:
        if "crs" not in spec:
            return  # OGC:CRS84 by the specification
        crs = spec["crs"]
        if crs is None:
            raise NationalInputError(self.path, None, "geometry", "the geometry's CRS is stated as unknown "
                                     "(crs: null); write the points in WGS-84 longitude/latitude")
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            parsed = CRS.from_user_input(crs if not isinstance(crs, dict) else CRS.from_json_dict(crs))
        except (CRSError, TypeError, ValueError):
            raise NationalInputError(self.path, None, "geometry", "the geometry's CRS is not readable") from None
        if not any(parsed.equals(CRS.from_user_input(w), ignore_axis_order=True) for w in _WGS84):
            raise NationalInputError(self.path, None, "geometry", f"the points are in {parsed.to_string()}, "
                                     "expected WGS-84 longitude/latitude (OGC:CRS84 or EPSG:4326)")

    def __iter__(self) -> Iterator[DemandChunk]:
        self.bytes_read = self.rows_read = 0
        if self.parquet:
            yield from self._parquet_chunks()
            return
        usecols = list(self.columns.values())
        with open(self.path, "rb") as raw:
            try:
                reader = pd.read_csv(raw, usecols=usecols, chunksize=self.chunk_rows, encoding="utf-8-sig",
                                     compression=self.compression, skip_blank_lines=True)
                with reader:
                    for frame in reader:
                        chunk = self._check(frame, self.rows_read + 1)
                        self.rows_read += len(chunk)
                        self.bytes_read = raw.tell()
                        del frame
                        yield chunk
            except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
                raise NationalInputError(self.path, self.rows_read + 1, None, "not readable as CSV from here "
                                         f"({str(exc).splitlines()[0][:200]})") from None
        self.bytes_read = self.total_bytes

    def _parquet_chunks(self) -> Iterator[DemandChunk]:
        import pyarrow as pa

        pf = self._parquet_file()
        total = max(pf.metadata.num_rows, 1)
        wanted = list(self.columns.values()) + ([self.geometry] if self.geometry else [])
        try:
            for batch in pf.iter_batches(batch_size=self.chunk_rows, columns=wanted):
                columns = self.columns
                if self.geometry is not None:
                    frame = self._points(batch, self.rows_read + 1)
                    columns = {field: field for field in frame.columns}
                else:
                    frame = batch.to_pandas()
                chunk = self._check(frame, self.rows_read + 1, columns)
                self.rows_read += len(chunk)
                self.bytes_read = int(self.total_bytes * self.rows_read / total)
                del frame, batch
                yield chunk
        except (pa.ArrowException, OSError) as exc:
            raise NationalInputError(self.path, self.rows_read + 1, None, "not readable as Parquet from here "
                                     f"({str(exc).splitlines()[0][:200]})") from None
        self.bytes_read = self.total_bytes

    def _points(self, batch, first_row: int) -> pd.DataFrame:
        """A GeoParquet batch's WKB points as ``lon``/``lat`` columns (beside its weight)."""
        column = batch.column(self.geometry)
        if column.null_count:
            missing = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
            raise NationalInputError(self.path, first_row + int(missing[0]), "geometry", "missing value")
        if self.encoding == "POINT":  # GeoArrow's native points: x and y as they are
            xy = tuple(column.field(axis).to_numpy(zero_copy_only=False).astype(float, copy=False) for axis in "xy")
        else:
            xy = _plain_wkb_points(column)
        if xy is None:  # big-endian, 3-D, EWKB or not points: GEOS reads it and says what it is
            x, y = self._geos_points(column.to_numpy(zero_copy_only=False), first_row)
        else:
            x, y = xy
        empty = np.flatnonzero(np.isnan(x) & np.isnan(y))
        if len(empty):
            raise NationalInputError(self.path, first_row + int(empty[0]), "geometry", "an empty point")
        points = {"lon": x, "lat": y}
        if "weight" in self.columns:
            points["weight"] = batch.column(self.columns["weight"]).to_pandas()
        return pd.DataFrame(points)

    def _geos_points(self, raw: np.ndarray, first_row: int) -> tuple[np.ndarray, np.ndarray]:
        geoms = shapely.from_wkb(raw, on_invalid="ignore")
        bad = np.flatnonzero(pd.isna(geoms))
        if len(bad):
            raise NationalInputError(self.path, first_row + int(bad[0]), "geometry", "not a readable WKB geometry")
        other = np.flatnonzero(shapely.get_type_id(geoms) != shapely.GeometryType.POINT)
        if len(other):
            pos = int(other[0])
            raise NationalInputError(self.path, first_row + pos, "geometry",
                                     f"expected a point, got a {geoms[pos].geom_type}")
        return shapely.get_x(geoms), shapely.get_y(geoms)

    def _check(self, frame: pd.DataFrame, first_row: int, columns: dict[str, str] | None = None) -> DemandChunk:
        values = {}
        for field, column in (self.columns if columns is None else columns).items():
            values[field] = self._numbers(frame[column], field, first_row)
        lon, lat = values["lon"], values["lat"]
        weight = values.get("weight")
        self._range(lon, (lon < -180) | (lon > 180), "lon", first_row, "longitude must be in [-180, 180] degrees")
        self._range(lat, (lat < -90) | (lat > 90), "lat", first_row, "latitude must be in [-90, 90] degrees")
        if weight is None:
            weight = np.ones(len(lon))
        else:
            self._range(weight, weight < 0, "weight", first_row, "weight must not be negative")
        return DemandChunk(lon, lat, weight, first_row)

    def _numbers(self, column: pd.Series, field: str, first_row: int) -> np.ndarray:
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            parsed = pd.to_numeric(column, errors="coerce")
            bad = np.flatnonzero(parsed.isna().to_numpy() & column.notna().to_numpy())
            if len(bad) or pd.api.types.is_bool_dtype(column):
                pos = int(bad[0]) if len(bad) else 0
                raise NationalInputError(self.path, first_row + pos, field,
                                         f"not a number: {str(column.iloc[pos])[:40]!r}")
            column = parsed
        out = column.to_numpy(dtype=float)
        missing = np.flatnonzero(~np.isfinite(out))
        if len(missing):
            pos = int(missing[0])
            raise NationalInputError(self.path, first_row + pos, field,
                                     "missing value" if np.isnan(out[pos]) else "must be a finite number")
        return np.ascontiguousarray(out)

    def _range(self, values: np.ndarray, bad: np.ndarray, field: str, first_row: int, problem: str) -> None:
        hit = np.flatnonzero(bad)
        if len(hit):
            pos = int(hit[0])
            raise NationalInputError(self.path, first_row + pos, field, f"{problem}, got {values[pos]!r}")


#: A 2-D point in little-endian WKB: byte order 1, type 1 (uint32), x and y (float64): 21 bytes.
_WKB_POINT_BYTES = 21


def _plain_wkb_points(column) -> tuple[np.ndarray, np.ndarray] | None:
    """x and y of a binary column whose every value is a 2-D little-endian WKB point, read from its buffers
    without making a geometry (GEOS costs ~0.7 µs a point); None when any value is something else."""
    import pyarrow as pa

    if pa.types.is_large_binary(column.type):
        offset_type = np.int64
    elif pa.types.is_binary(column.type):
        offset_type = np.int32
    else:
        return None
    _, offsets, data = column.buffers()
    n = len(column)
    offsets = np.frombuffer(offsets, dtype=offset_type)[column.offset:column.offset + n + 1]
    if n == 0 or not (np.diff(offsets) == _WKB_POINT_BYTES).all():
        return None
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, _WKB_POINT_BYTES)
    if not ((raw[:, 0] == 1).all() and (raw[:, 1:5].copy().view("<u4").ravel() == 1).all()):
        return None
    return raw[:, 5:13].copy().view("<f8").ravel(), raw[:, 13:21].copy().view("<f8").ravel()


def chunks_of(lon, lat, weight=None, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[DemandChunk]:
    """Arrays already in memory as :class:`DemandChunk` of ``chunk_rows`` (for tests and benches)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    weight = np.ones(len(lon)) if weight is None else np.asarray(weight, dtype=float)
    for lo in range(0, len(lon), chunk_rows):
        yield DemandChunk(lon[lo:lo + chunk_rows], lat[lo:lo + chunk_rows], weight[lo:lo + chunk_rows], lo + 1)


class _Growing:
    """Accumulators indexed by hexagon, grown as new cells appear."""

    def __init__(self):
        self.pos: dict[int, int] = {}
        self.codes = np.empty(1024, dtype=np.uint64)
        self.demand = np.zeros(1024)
        self.covered = np.zeros(1024)
        self.points = np.zeros(1024, dtype=np.int64)
        self.points_covered = np.zeros(1024, dtype=np.int64)

    def ids(self, codes: np.ndarray) -> np.ndarray:
        uniq, inverse = np.unique(codes, return_inverse=True)
        ids = np.empty(len(uniq), dtype=np.int64)
        pos = self.pos
        for k, code in enumerate(uniq.tolist()):
            got = pos.get(code)
            if got is None:
                got = pos[code] = len(pos)
            ids[k] = got
        n = len(pos)
        if n > len(self.codes):
            size = max(n, 2 * len(self.codes))
            for name in ("codes", "demand", "covered", "points", "points_covered"):
                old = getattr(self, name)
                new = np.zeros(size, dtype=old.dtype)
                new[:len(old)] = old
                setattr(self, name, new)
        self.codes[ids] = uniq
        return ids[inverse.reshape(-1)]


def national_coverage(chunks: Iterable[DemandChunk], stations: gpd.GeoDataFrame, radius_m: float, *,
                      districts: gpd.GeoDataFrame | None = None, hours: HoursTable | None = None,
                      amenities=(), at=None, h3_res: int = DEFAULT_H3_RES, extra_stations=None,
                      removed_station_ids=None, workers: int = 1,
                      progress: Callable[[int], None] | None = None) -> CoverageResult:
    """Coverage of streamed demand, as :meth:`CoverageModel.coverage` with ``mode="straight"`` answers it.

    Each point is covered when an eligible station (amenities, opening hours at ``at``, removals;
    plus ``extra_stations``, every amenity and always open) lies within ``radius_m`` great-circle
    metres, ``<=``: :class:`layers.planning.coverage.StationReach`, the kernel the in-process model
    uses beyond its pair table, which finds exactly the pairs of its table. Per-district and
    per-hexagon sums are added point by point in file order (``numpy.add.at``), as the model's
    ``bincount`` adds them, so on the same points they are equal to the last bit; the city totals
    are sums of chunk sums, equal to the model's to float rounding (about 1e-15 relative; exact for
    whole-number weights), and the point counts are exact.

    Parameters
    ----------
    chunks : iterable of DemandChunk
        A :class:`DemandFile` or :func:`chunks_of`.
    stations, districts, hours, amenities, at, h3_res, extra_stations, removed_station_ids
        As for :class:`CoverageModel` and :meth:`CoverageModel.coverage`.
    workers : int
        Threads of the KD-tree query (-1: every core).
    progress : callable, optional
        Called with the number of points done after each chunk.

    Returns
    -------
    CoverageResult
        With ``overall``, ``districts`` and ``hexagons`` as the model gives them; ``covered`` is
        empty (the points are not kept), ``network_points`` and ``fallback_points`` are 0.

    Raises
    ------
    ValueError
        For a bad radius, amenity, station id or resolution (before any chunk is read).
    """
    radius = check_radius(radius_m)
    if isinstance(h3_res, bool) or not isinstance(h3_res, (int, np.integer)) or not 0 <= h3_res <= 15:
        raise ValueError(f"h3_res must be an integer from 0 to 15, got {h3_res!r}")
    stations_only = CoverageModel(stations, np.empty(0), np.empty(0), hours=hours, h3_res=None)
    eligible, keys, t = stations_only.eligible(amenities, at, removed_station_ids)
    reach, n_extra = stations_only.reach(eligible, extra_stations)

    if districts is not None:
        k = len(districts)
        district_table = pd.DataFrame({
            "adcode": districts["adcode"].to_numpy(np.int64),
            "name": districts["name"].astype(str).to_numpy(),
            "name_en": (districts["name_en"].astype(str).to_numpy() if "name_en" in districts
                        else np.full(k, "", dtype=object)),
        })
        # one accumulator more, last: the points outside every district
        d_demand, d_covered = np.zeros(k + 1), np.zeros(k + 1)
        d_points, d_points_covered = np.zeros(k + 1, dtype=np.int64), np.zeros(k + 1, dtype=np.int64)
    hexes = _Growing()
    total = got = 0.0
    n = n_cov = 0
    for chunk in chunks:
        covered = reach.covered(chunk.lat, chunk.lon, radius, workers=workers)
        w = chunk.weight
        covered_w = np.where(covered, w, 0.0)
        total += float(w.sum())
        got += float(covered_w.sum())
        n += len(chunk)
        n_cov += int(covered.sum())
        if districts is not None and k:
            pos = district_index(chunk.lon, chunk.lat, districts, max_degrees=OUTSIDE_DEGREES)
            pos[pos < 0] = k
            np.add.at(d_demand, pos, w)
            np.add.at(d_covered, pos, covered_w)
            d_points += np.bincount(pos, minlength=k + 1)
            d_points_covered += np.bincount(pos[covered], minlength=k + 1)
        ids = hexes.ids(h3_codes(chunk.lat, chunk.lon, int(h3_res)))
        np.add.at(hexes.demand, ids, w)
        np.add.at(hexes.covered, ids, covered_w)
        m = len(hexes.pos)
        hexes.points[:m] += np.bincount(ids, minlength=m)
        hexes.points_covered[:m] += np.bincount(ids[covered], minlength=m)
        del covered, covered_w
        if progress is not None:
            progress(n)

    overall = {"demand": total, "covered": got, "share": got / total if total > 0 else None,
               "points": n, "points_covered": n_cov, "point_share": n_cov / n if n else None}
    if districts is not None:
        keep = k + 1 if d_points[k] else k
        frame = district_table if keep == k else pd.concat([district_table, pd.DataFrame([OUTSIDE_ROW])],
                                                           ignore_index=True)
        frame["demand"], frame["covered"] = d_demand[:keep], d_covered[:keep]
        frame["points"], frame["points_covered"] = d_points[:keep], d_points_covered[:keep]
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["share"] = np.where(frame["demand"] > 0, frame["covered"] / frame["demand"], np.nan)
            frame["point_share"] = np.where(frame["points"] > 0, frame["points_covered"] / frame["points"], np.nan)
    else:
        frame = pd.DataFrame(columns=_DISTRICT_COLUMNS)
    m = len(hexes.pos)
    order = np.argsort(hexes.codes[:m], kind="stable")  # the model lists cells by their 64-bit code
    table = pd.DataFrame({
        "h3": np.array([h3.int_to_str(int(c)) for c in hexes.codes[:m][order]], dtype=object),
        "demand": hexes.demand[:m][order],
        "covered": hexes.covered[:m][order],
        "points": hexes.points[:m][order],
        "points_covered": hexes.points_covered[:m][order],
    })
    table["uncovered"] = table["demand"] - table["covered"]
    return CoverageResult(overall, frame, table[_HEX_COLUMNS], np.zeros(0, dtype=bool), radius, "straight", t, keys,
                          int(h3_res), int(eligible.sum()), hypothetical_stations=n_extra)

