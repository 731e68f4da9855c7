"""`python -m exports.national FILE --radius 1000 --out tables.xlsx`: coverage of a national demand file on one machine.

The points are streamed in chunks (:class:`layers.planning.national.DemandFile`), covered as the planner
covers them (straight line) by the stations of the data store, and written as the planner's tables: an
Excel workbook (``overall``, ``districts``, ``hexagons``) or CSV (the district table at ``--out``, the
hexagons beside it as ``<name>.hexagons.csv``). A progress line on stderr counts rows and bytes read;
a bad file, radius or option ends with exit code 2 and a message naming the file, row and field.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from exports.labels import check_lang, header, inert_frame
from exports.table_csv import coverage_table_csv
from exports.table_xlsx import coverage_table_xlsx
from layers.common.calendar import as_local
from layers.common.errors import QuestionError
from layers.planning.coverage import DEFAULT_H3_RES
from layers.planning.national import DEFAULT_CHUNK_ROWS, DemandFile, NationalInputError, national_coverage
from layers.planning.results import hexagon_table
from mapdata.config import Settings
from mapdata.store import StoreError, open_store

OUT_SUFFIXES = (".csv", ".xlsx")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m exports.national", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path, help="demand points: CSV with columns lon, lat and optionally weight "
                                                "(WGS-84 degrees; .csv, .txt, optionally .gz), or GeoParquet "
                                                "points / Parquet lon, lat (.parquet, .geoparquet, .gpq)")
    parser.add_argument("--radius", type=float, default=1000.0, help="coverage radius in metres (default 1000)")
    parser.add_argument("--at", default=None, help="only stations open at this local time (ISO, e.g. "
                                                   "2026-03-04T12:00); default: every station")
    parser.add_argument("--amenities", default="", help="comma-separated amenity keys every station must have")
    parser.add_argument("--h3-res", type=int, default=DEFAULT_H3_RES, help="H3 resolution of the hexagon table")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="points read at a time")
    parser.add_argument("--workers", type=int, default=1, help="threads of the neighbour search (-1: every core)")
    parser.add_argument("--lang", default=None, choices=("zh", "en"), help="headings' language (default both)")
    parser.add_argument("--db", default=None, help="the data store (default: NUANXIN_DB or var/nuanxin.gpkg)")
    parser.add_argument("--out", type=Path, required=True, help="tables.xlsx or tables.csv")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


class Progress:
    """One line on ``stream``, rewritten after each chunk: rows done, bytes read of the total, elapsed time."""

    def __init__(self, source: DemandFile, stream=None):
        self.source, self.stream = source, stream if stream is not None else sys.stderr
        self.started = time.perf_counter()
        self.drawn = False

    def __call__(self, rows: int) -> None:
        total = max(self.source.total_bytes, 1)
        done = min(self.source.bytes_read, total)
        width = 30
        filled = int(width * done / total)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {rows:,} rows · "
                          f"{done / 1e6:,.1f} / {total / 1e6:,.1f} MB ({done / total:.0%}) · "
                          f"{time.perf_counter() - self.started:,.0f} s")
        self.stream.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _hexagons_csv(result, lang) -> bytes:
    frame = hexagon_table(result)
    if lang is not None:
        frame = frame.rename(columns={c: header(c, lang, "weight") for c in frame.columns})
    text = inert_frame(frame).to_csv(index=False, lineterminator="\r\n", float_format="%.6f")
    return text.encode("utf-8-sig")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out: Path = args.out
    progress = None
    try:
        if out.suffix.lower() not in OUT_SUFFIXES:
            raise QuestionError("out", f"--out must end in {' or '.join(OUT_SUFFIXES)}, got {out.name!r}")
        lang = check_lang(args.lang)
        if args.at is not None:
            try:
                as_local(args.at)
            except (TypeError, ValueError) as exc:
                raise QuestionError("at", f"--at must be a local time like 2026-03-04T12:00 ({exc})") from None
        source = DemandFile(args.file, args.chunk_rows)
        db = args.db or Settings.from_env().db_path
        store = open_store(db)
        if not store.exists():
            raise StoreError(f"no data store at {db}; build it with `make data`")
        from layers.rider.catalogue import StationCatalogue

        catalogue = StationCatalogue(store, with_network=False)
        progress = None if args.quiet else Progress(source)
        amenities = [a.strip() for a in args.amenities.split(",") if a.strip()]
        result = national_coverage(source, catalogue.stations, args.radius, districts=store.read("districts"),
                                   hours=catalogue.finder.hours, amenities=amenities, at=args.at,
                                   h3_res=args.h3_res, workers=args.workers, progress=progress)
        if progress is not None:
            progress.end()
            progress = None
        if out.suffix.lower() == ".xlsx":
            out.write_bytes(coverage_table_xlsx(result, lang=lang, unit="weight"))
            written = [out]
        else:
            hexes = out.with_name(out.stem + ".hexagons.csv")
            out.write_bytes(coverage_table_csv(result, lang=lang, unit="weight"))
            hexes.write_bytes(_hexagons_csv(result, lang))
            written = [out, hexes]
    except NationalInputError as exc:
        _end(progress)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QuestionError as exc:
        _end(progress)
        print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    except (StoreError, ValueError, OSError) as exc:
        _end(progress)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    o = result.overall
    share = "—" if o["share"] is None else f"{o['share']:.1%}"
    print(f"{o['points']:,} points, {o['points_covered']:,} covered; weighted share {share} within "
          f"{result.radius_m:,.0f} m of {result.open_stations:,} stations; wrote {', '.join(map(str, written))}")
    return 0


def _end(progress: Progress | None) -> None:
    if progress is not None:
        progress.end()


if __name__ == "__main__":
    sys.exit(main())
