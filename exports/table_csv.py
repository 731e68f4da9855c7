"""The coverage table as CSV: UTF-8 with a BOM, one row per district and one for the city."""
from __future__ import annotations

from exports.labels import inert_frame, labelled_district_table
from layers.planning.coverage import CoverageResult


def coverage_table_csv(result: CoverageResult) -> bytes:
    """The district table of a coverage result as CSV.

    Parameters
    ----------
    result : CoverageResult

    Returns
    -------
    bytes
        UTF-8 with a byte-order mark (Excel reads a BOM-less file as the local code page and
        garbles 锦江区), CRLF line ends (RFC 4180), a header of :data:`layers.planning.results.DISTRICT_COLUMNS`, one row
        per district and a last row for the whole city; shares are fractions (0–1), empty where a
        district has no demand.
    """
    frame = inert_frame(labelled_district_table(result))
    text = frame.to_csv(index=False, lineterminator="\r\n", float_format="%.6f")
    return text.encode("utf-8-sig")
