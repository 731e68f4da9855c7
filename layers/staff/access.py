"""What an account may touch, deny by default: one check per kind of write, used by the page, the API and imports.

- station staff (驿站管理员): the stations listed on the account;
- street / community worker (街道、社区): every station of their street (in their district);
- district admin (区): every station of the district; creates and retires stations;
- city admin: everything.
A position is checked against the account's area: the district of the account (or of the station,
for station and street accounts), Chengdu for the city.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.common.errors import AccessDenied
from layers.staff.accounts import Account

__all__ = ["AccessDenied", "editable_mask", "may_create_or_retire", "may_edit_station", "position_allowed",
           "require_station"]


def may_edit_station(account: Account | None, station: pd.Series | dict) -> bool:
    """Whether ``account`` may change ``station`` (a row of the stations layer)."""
    if account is None:
        return False
    if account.role == "city":
        return True
    if account.role == "district":
        return account.adcode is not None and int(station["adcode"]) == account.adcode
    if account.role == "street":
        return (account.street is not None and station.get("street") == account.street
                and account.adcode is not None and int(station["adcode"]) == account.adcode)
    if account.role == "station":
        return str(station["id"]) in account.stations
    return False


def editable_mask(account: Account | None, stations: pd.DataFrame) -> np.ndarray:
    """Which rows of ``stations`` ``account`` may change (the same rule as :func:`may_edit_station`)."""
    n = len(stations)
    if account is None:
        return np.zeros(n, dtype=bool)
    if account.role == "city":
        return np.ones(n, dtype=bool)
    adcode = stations["adcode"].to_numpy(dtype=np.int64)
    if account.role == "district":
        return adcode == (account.adcode if account.adcode is not None else -1)
    if account.role == "street":
        return (stations["street"].to_numpy(dtype=object) == account.street) & (adcode == (account.adcode or -1))
    if account.role == "station":
        return stations["id"].astype(str).isin(account.stations).to_numpy()
    return np.zeros(n, dtype=bool)


def require_station(account: Account | None, station) -> None:
    if not may_edit_station(account, station):
        raise AccessDenied("id", f"station {station['id']} is outside this account's area")


def may_create_or_retire(account: Account | None, adcode: int) -> bool:
    if account is None:
        return False
    return account.role == "city" or (account.role == "district" and account.adcode == int(adcode))


def position_allowed(account: Account, districts: gpd.GeoDataFrame, lon: float, lat: float,
                     station_adcode: int | None = None) -> bool:
    """Whether a position set by ``account`` lies in its area: its district (a station or street account:
    the station's district), any district of Chengdu for the city (no union of them is needed)."""
    if account.role == "city":
        return bool(shapely.contains_xy(districts.geometry.values, lon, lat).any())
    adcode = account.adcode if account.role in ("district", "street") else station_adcode
    row = districts[districts["adcode"].astype(np.int64) == int(adcode if adcode is not None else -1)]
    return not row.empty and bool(shapely.contains_xy(row.geometry.iloc[0], lon, lat))
