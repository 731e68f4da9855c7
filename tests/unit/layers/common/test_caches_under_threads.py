"""Request threads share the finder and the road network: their caches must hold under concurrent use."""
from __future__ import annotations

import datetime as dt
import sys
import threading

import numpy as np
import pytest

from layers.rider.catalogue import StationCatalogue

AMENITY_SETS = [(), ("microwave",), ("toilet",), ("wifi", "charging"), ("books",), ("first_aid", "microwave"),
                ("kitchen",), ("legal_counselling",), ("rest_area",), ("air_conditioning", "toilet")]


@pytest.fixture()
def fast_switching():
    """Switch threads as often as the interpreter can, so that races show up in a short test."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-7)
    yield
    sys.setswitchinterval(before)


def _hammer(work, n_threads: int = 8) -> list[str]:
    errors: list[str] = []

    def run(seed):
        try:
            work(seed)
        except Exception as exc:  # noqa: BLE001 - every failure of a thread is the finding
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(s,)) for s in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_the_finder_answers_right_from_many_threads_at_once(store, fast_switching):
    finder = StationCatalogue(store, with_network=False).finder
    base = dt.datetime(2026, 11, 2, 0, 0)
    times = [base + dt.timedelta(minutes=7 * i) for i in range(40)]  # more instants than the cache holds
    expected = {(i, j): finder.count_matching(30.66, 104.06, AMENITY_SETS[j], times[i])
                for i in range(len(times)) for j in range(len(AMENITY_SETS))}
    wrong: list = []

    def work(seed):
        for n in range(4000):
            i, j = (n * 7 + seed) % len(times), (n * 3 + seed) % len(AMENITY_SETS)
            got = finder.count_matching(30.66, 104.06, AMENITY_SETS[j], times[i])
            if got != expected[i, j]:
                wrong.append((i, j, got))

    assert _hammer(work) == []
    assert wrong == []


def test_the_road_network_answers_right_from_many_threads_at_once(store, fast_switching):
    network = StationCatalogue(store).network()
    rng = np.random.default_rng(7)
    origins = [(30.655 + rng.uniform(0, 0.03), 104.05 + rng.uniform(0, 0.06)) for _ in range(90)]
    targets = (np.array([30.66, 30.67, 30.68]), np.array([104.07, 104.08, 104.09]))
    expected = [network.riding_distances(lat, lon, *targets) for lat, lon in origins]
    wrong: list = []

    def work(seed):
        for n in range(150):
            k = (n * 11 + seed * 5) % len(origins)
            got = network.riding_distances(*origins[k], *targets)
            if not np.array_equal(got, expected[k], equal_nan=True):
                wrong.append(k)

    assert _hammer(work) == []
    assert wrong == []


def test_the_open_mask_is_cached_per_minute_not_per_microsecond(store):
    finder = StationCatalogue(store, with_network=False).finder
    base = dt.datetime(2026, 12, 2, 21, 59, 0, 1)
    answers = {tuple(r["id"] for r in finder.nearest(30.66, 104.06, at=base + dt.timedelta(seconds=s, microseconds=s),
                                                     k=5)) for s in range(0, 59)}
    assert len(answers) == 1
    assert len(finder._open_cache) == 1  # one minute asked about: one mask computed
    # the next minute is another answer's moment
    finder.nearest(30.66, 104.06, at=base + dt.timedelta(minutes=1), k=5)
    assert len(finder._open_cache) == 2
