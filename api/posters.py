"""Routes of the stations' QR posters (暖新码): one station's, or every active station of a district in one PDF."""
from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

import numpy as np
from flask import Response, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.errors import ApiError, from_validation
from api.models import QueryInt
from api.params import parse_query, services
from api.spec import ApiBlueprint
from api.stations import PREFIX
from exports.poster import SIZES, station_poster_pdf
from layers.rider.links import STATION_ID_PATTERN
from mapdata.config import public_url

PDF = "application/pdf"
_SIZE = f"paper size: {' or '.join(SIZES)} (portrait); A5 by default"

bp = ApiBlueprint("api_posters", __name__)


class PosterPath(BaseModel):
    station_id: str = Field(max_length=64, pattern=STATION_ID_PATTERN, description="a station id such as st-0001",
                            examples=["st-0001"])


class PosterQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    size: Literal[tuple(SIZES)] = Field("A5", description=_SIZE)  # type: ignore[valid-type]


class DistrictPostersQuery(PosterQuery):
    # the example is the district with the fewest stations: the fuzz test renders it several times
    district: QueryInt = Field(ge=100000, le=999999, examples=[510131],
                               description="the district's adcode (six digits), e.g. 510104 for 锦江区")


def _base_url() -> str:
    """What the QR codes point at: NUANXIN_PUBLIC_URL, else the address this request came to."""
    configured = services().settings.public_url
    if configured:
        return configured
    try:
        return public_url(request.host_url, "Host")
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", str(exc), "Host") from None


def _name_part(text: str) -> str:
    """``text`` safe inside a file name: letters (any script), digits, ``-``; runs of anything else become ``-``."""
    return re.sub(r"[^\w-]+", "-", text, flags=re.UNICODE).strip("-_")[:60] or "station"


def _pdf(data: bytes, filename: str, ascii_name: str) -> Response:
    # RFC 6266 + RFC 5987: an ASCII name for old clients, the Chinese one in filename*
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(data, mimetype=PDF, headers={"Content-Disposition": disposition})


@bp.operation("GET", f"{PREFIX}/stations/<station_id>/poster.pdf", path=PosterPath, query=PosterQuery,
              response_type=PDF, errors=(400, 404),
              response_description="the poster as a PDF attachment: name, address, hours, amenities and a QR code of "
                                   "<base>/s/<station_id>",
              summary="A station's printable QR poster (暖新码), A4 or A5")
def station_poster(station_id: str):
    try:
        PosterPath.model_validate({"station_id": station_id})
    except ValidationError as exc:
        raise from_validation(exc) from None
    q = parse_query(PosterQuery)
    catalogue = services().stations
    i = catalogue.position(station_id)
    if i is None:
        raise ApiError(404, "not_found", f"no active station with id {station_id!r}", "station_id")
    row = catalogue.stations.iloc[i]
    data = station_poster_pdf(catalogue.stations.iloc[[i]], _base_url(), q.size)
    return _pdf(data, f"暖新码-{_name_part(str(row['name']))}-{q.size}.pdf",
                f"nuanxin-poster-{station_id}-{q.size}.pdf")


@bp.operation("GET", f"{PREFIX}/reports/posters.pdf", query=DistrictPostersQuery, response_type=PDF,
              errors=(400, 404),
              response_description="one PDF attachment, one page per active station of the district, ordered by name",
              summary="Every active station's QR poster in a district, one page each, in one PDF")
def district_posters():
    q = parse_query(DistrictPostersQuery)
    districts = services().planning.districts()
    hit = districts[districts["adcode"].astype(np.int64) == q.district]
    if hit.empty:
        raise ApiError(404, "not_found", f"no district with adcode {q.district}; adcodes: "
                       f"{', '.join(str(a) for a in districts['adcode'])}", "district")
    stations = services().stations.stations
    mine = stations[stations["adcode"].astype(np.int64).to_numpy() == q.district]
    if mine.empty:
        raise ApiError(404, "not_found", f"no active station in district {q.district}", "district")
    mine = mine.sort_values(["name", "id"], kind="stable")
    data = station_poster_pdf(mine, _base_url(), q.size)
    name = str(hit["name"].iloc[0])
    return _pdf(data, f"暖新码-{_name_part(name)}-{q.size}.pdf", f"nuanxin-posters-{q.district}-{q.size}.pdf")
