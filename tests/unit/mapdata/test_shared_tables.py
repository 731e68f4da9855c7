"""The store's tables that every worker shares (issue 12): failed logins in their window, planners' uploads
under their token (the newest few, read back exactly, by a store opened apart on the same file)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mapdata import clock
from mapdata.store import StoreError, open_store
from mapdata.store.throttle import Limit
from tests.helpers import TEST_NOW, raw_sql


def test_failures_count_in_their_window_and_a_forgiven_attempt_not_at_all(writable_db):
    one, other = open_store(writable_db), open_store(writable_db)
    limits = [Limit("name:a", 2, 600), Limit("address:x", 3, 600)]
    assert one.throttle.reserve(limits) is not None
    forgiven = other.throttle.reserve(limits)
    other.throttle.forgive(forgiven)  # a success costs nothing
    assert one.throttle.reserve(limits) is not None
    assert other.throttle.failures("name:a", 600) == 2
    assert other.throttle.reserve(limits) is None  # the name is at its limit: nothing more is counted
    assert one.throttle.failures("address:x", 600) == 2
    assert one.throttle.reserve([Limit("name:b", 2, 600), Limit("address:x", 3, 600)]) is not None
    assert one.throttle.reserve([Limit("name:c", 2, 600), Limit("address:x", 3, 600)]) is None  # the address is
    with clock.frozen(TEST_NOW + dt.timedelta(seconds=601)):
        assert other.throttle.failures("name:a", 600) == 0
        assert other.throttle.reserve(limits) is not None
        assert raw_sql(writable_db, "SELECT count(*) FROM login_failures") == [(2,)]  # the rest out of every window


def test_uploads_keep_the_newest_few_and_read_back_exactly(writable_db):
    one, other = open_store(writable_db), open_store(writable_db)
    times = np.array(["2026-12-02T07:00", "NaT", "2026-12-02T08:30"], dtype="datetime64[ns]")
    arrays = {"lon": np.array([104.06, 104.07, 104.08]), "lat": np.array([30.65, 30.66, 30.67]), "time": times,
              "rows": np.array([1, 2, 5], dtype=np.int64)}
    for i in range(4):
        one.uploads.put("demand", f"token-{i}", arrays, {"name": f"{i}.csv", "rows": 3}, keep=3)
    one.uploads.put("candidates", "token-c", {"lon": np.zeros(1)}, {"name": "c.csv"}, keep=3)
    assert other.uploads.tokens("demand") == ["token-1", "token-2", "token-3"]  # the oldest went first
    assert other.uploads.get("demand", "token-0") is None and not other.uploads.has("demand", "token-0")
    assert other.uploads.get("candidates", "token-3") is None  # a token answers for its own kind only
    got = other.uploads.get("demand", "token-3")
    assert got.summary == {"name": "3.csv", "rows": 3} and set(got.arrays) == set(arrays)
    for name, values in arrays.items():
        assert got.arrays[name].dtype == values.dtype
        np.testing.assert_array_equal(got.arrays[name], values)
    with pytest.raises(StoreError):
        one.uploads.put("demand", "token-3", arrays, {}, keep=3)  # a token is never reused
    with pytest.raises(ValueError):
        one.uploads.put("demand", "token-x", {"names": np.array(["a", None], dtype=object)}, {}, keep=3)
    assert other.uploads.tokens("demand") == ["token-1", "token-2", "token-3"]


def test_candidate_sites_come_back_from_the_store_as_they_went_in(planning):
    from layers.planning.context import _site_arrays, _sites_of
    from mapdata.store.uploads import pack, unpack

    sites = planning.candidates().iloc[::500].copy()
    sites.loc[sites.index[0], "name"] = None
    back = _sites_of(unpack(pack(_site_arrays(sites))), {})
    pd.testing.assert_frame_equal(back.reset_index(drop=True), sites.reset_index(drop=True))
    assert list(back.columns) == list(sites.columns) and back.crs == sites.crs and pd.isna(back["name"].iloc[0])
