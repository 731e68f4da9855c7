"""The coverage table and the recommended sites as CSV: UTF-8 with a BOM, headings in the page's language."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from exports.labels import SOURCE_TEXT, check_lang, check_unit, header, inert_frame, labelled_district_table
from layers.planning.coverage import CoverageResult

#: The columns of the sites table, as :func:`sites_table` gives them.
SITE_TABLE_COLUMNS = ["rank", "site", "coords", "lat", "lon", "gain", "gain_points", "share_after", "id", "source"]


def _csv(frame: pd.DataFrame) -> bytes:
    text = inert_frame(frame).to_csv(index=False, lineterminator="\r\n", float_format="%.6f")
    return text.encode("utf-8-sig")


def coverage_table_csv(result: CoverageResult, lang: str | None = None, unit: str = "orders_per_day",
                       whatif=None) -> bytes:
    """The district table of a coverage result as CSV.

    Parameters
    ----------
    result : CoverageResult
        What the page shows (with a what-if: its ``changed`` result).
    lang : {"zh", "en"} or None
        The headings' language (``需求（单/日）`` / ``Demand (orders/day)``); None for the column keys of
        :data:`layers.planning.results.DISTRICT_COLUMNS`, which scripts read.
    unit : {"orders_per_day", "weight"}
        What demand counts: the stored demand's orders a day, or an upload's weights.
    whatif : WhatIf, optional
        Adds the column ``delta``: the change of weighted share in percentage points, empty for a
        district the what-if leaves untouched.

    Returns
    -------
    bytes
        UTF-8 with a byte-order mark (Excel reads a BOM-less file as the local code page and
        garbles 锦江区), CRLF line ends (RFC 4180), one row per district and a last row for the whole
        city; shares are fractions (0–1), empty where a district has no demand.
    """
    lang, unit = check_lang(lang), check_unit(unit)
    frame = labelled_district_table(result, whatif)
    if lang is not None:
        frame = frame.rename(columns={c: header(c, lang, unit) for c in frame.columns})
    return _csv(frame)


def sites_table(sites: gpd.GeoDataFrame, lang: str | None = None) -> pd.DataFrame:
    """The recommended sites (:func:`layers.planning.results.recommended_sites`) as a plain table.

    Columns :data:`SITE_TABLE_COLUMNS` (``site`` the site's name in ``lang``; for None, ``site`` in Chinese
    and ``site_en`` after it), ``coords`` the ``"lat, lon"`` to copy, ``lat`` / ``lon`` to 6 decimals,
    ``share_after`` the cumulative share with the sites up to this one.
    """
    lang = check_lang(lang)
    frame = pd.DataFrame({
        "rank": sites["rank"].astype("int64").to_numpy(),
        "site": (sites["name_en"] if lang == "en" else sites["name"]).to_numpy(dtype=object),
        "coords": sites["coords"].to_numpy(dtype=object),
        "lat": sites["lat"].round(6).to_numpy(), "lon": sites["lon"].round(6).to_numpy(),
        "gain": sites["gain"].to_numpy(dtype=float), "gain_points": sites["gain_points"].astype("int64").to_numpy(),
        "share_after": sites["share"].to_numpy(dtype=float), "id": sites["id"].to_numpy(dtype=object),
        "source": [SOURCE_TEXT.get(s, (s, s))[1 if lang == "en" else 0] if lang and s else s
                   for s in sites["source"].to_numpy(dtype=object)],
    }, columns=SITE_TABLE_COLUMNS)
    if lang is None:
        frame.insert(2, "site_en", sites["name_en"].to_numpy(dtype=object))
    return frame


def sites_table_csv(sites: gpd.GeoDataFrame, lang: str | None = None, unit: str = "orders_per_day") -> bytes:
    """:func:`sites_table` as CSV (as :func:`coverage_table_csv`: BOM, CRLF, headings in ``lang`` or keys)."""
    lang, unit = check_lang(lang), check_unit(unit)
    frame = sites_table(sites, lang)
    if lang is not None:
        frame = frame.rename(columns={c: header(c, lang, unit) for c in frame.columns})
    return _csv(frame)
