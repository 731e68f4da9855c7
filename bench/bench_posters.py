"""QR posters: time per page of one station's poster (the baseline) against a district's posters in one PDF."""
from __future__ import annotations

import statistics
import time

import numpy as np

from mapdata.config import Settings

BASE = "https://nuanxin.example.cn"
REPEATS = 5


def _timed(stations, size: str, repeats: int) -> tuple[float, int]:
    from exports.poster import station_poster_pdf

    seconds, size_bytes = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        size_bytes = len(station_poster_pdf(stations, BASE, size))
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), size_bytes


def main() -> None:
    from exports.poster import station_poster_pdf
    from layers.rider.catalogue import StationCatalogue
    from mapdata.store import open_store

    store = open_store(Settings.from_env().db_path)
    stations = StationCatalogue(store, with_network=False).stations
    adcodes = stations["adcode"].astype(np.int64)
    counts = adcodes.value_counts()
    t0 = time.perf_counter()
    station_poster_pdf(stations.iloc[[0]], BASE, "A5")
    first = time.perf_counter() - t0  # imports WeasyPrint, loads the fonts

    print(f"first poster of the process (WeasyPrint import, fonts): {first:.2f} s")
    print(f"{'what':<44}{'pages':>6}{'s total':>9}{'ms/page':>9}{'KB':>8}{'× one':>7}")
    for size in ("A5", "A4"):
        one, one_bytes = _timed(stations.iloc[[0]], size, REPEATS)
        print(f"{f'one station, {size} (baseline)':<44}{1:>6}{one:>9.2f}{one * 1000:>9.0f}{one_bytes / 1024:>8.0f}"
              f"{1.0:>7.2f}")
        for label, adcode in (("smallest district", counts.index[-1]), ("largest district", counts.index[0])):
            mine = stations[adcodes.to_numpy() == adcode].sort_values(["name", "id"])
            total, nbytes = _timed(mine, size, 1 if len(mine) > 20 else 3)
            per_page = total / len(mine)
            print(f"{f'{label} {adcode}, {size}':<44}{len(mine):>6}{total:>9.2f}{per_page * 1000:>9.0f}"
                  f"{nbytes / 1024:>8.0f}{per_page / one:>7.2f}")
    total, nbytes = _timed(stations.sort_values(["name", "id"]), "A5", 1)
    print(f"{'every active station of the city, A5':<44}{len(stations):>6}{total:>9.2f}"
          f"{total / len(stations) * 1000:>9.0f}{nbytes / 1024:>8.0f}")
    print("× one: time per page against one station's poster in the same run (median of "
          f"{REPEATS}); a district PDF is one WeasyPrint document, one page per active station")


if __name__ == "__main__":
    main()
