"""Benchmark: open-now for every station at once against a per-station OpeningHours loop."""

import datetime as dt
import time

import numpy as np
import opening_hours

from layers.common.calendar import TZ
from layers.common.hours import HoursTable

# A realistic mix for community stations: shop hours, government-office hours with a lunch
# break, late-night rider rest points, seasonal hours, holiday rules.
EXPRESSIONS = [
    "24/7",
    "Mo-Su 08:00-22:00",
    "Mo-Su 09:00-21:00",
    "Mo-Su 07:00-23:00",
    "Mo-Su 10:00-22:00",
    "Mo-Su 08:00-20:00; PH off",
    "Mo-Su 09:00-21:00; PH 10:00-18:00",
    "Mo-Fr 08:30-12:00,14:00-18:00; PH off",
    "Mo-Fr 09:00-12:00,13:30-17:30; PH off",
    "Mo-Fr 08:30-12:00,14:00-17:30; Sa 09:00-12:00; PH off",
    "Mo-Fr 09:00-17:00",
    "Mo-Fr 09:00-17:00; Sa 10:00-14:00",
    "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00; PH off",
    "Mo-Fr 07:00-19:00; Sa,Su,PH 09:00-17:00",
    "Mo-Sa 08:00-20:00; Su 10:00-16:00",
    "Mo-Sa 06:30-11:00,17:00-23:30; PH off",
    "Mo-Su 11:00-14:00,17:00-21:00",
    "Mo-Su 22:00-02:00",
    "Mo-Su 20:00-06:00",
    "Mo-Su 22:00-02:00; PH off",
    "Mo-Fr 22:00-02:00",
    "Mo-Su 08:00-24:00",
    "Mo-Su 06:00-24:00; PH 08:00-20:00",
    "Mo-Su 00:00-24:00; PH off",
    "Oct-Mar Mo-Su 09:00-17:00; Apr-Sep Mo-Su 08:00-19:00",
    "Oct-Mar Mo-Fr 08:30-17:30; Apr-Sep Mo-Fr 08:00-18:00; PH off",
    "Jun-Aug Mo-Su 07:00-22:00; Sep-May Mo-Su 08:00-21:00",
    "Mo-Th 08:00-18:00; Fr 08:00-12:00",
    "Mo 08:00-12:00; Tu-Fr 08:00-18:00",
    "Tu-Su 09:00-18:00; Mo off",
    "Mo-Fr 10:00-20:00; Sa,Su 10:00-22:00",
    "Mo-Su 05:30-09:30,16:30-20:30",
    "Mo-Fr 12:00-14:00,18:00-22:00; Sa,Su 12:00-22:00",
    "Sa,Su 09:00-18:00",
    "Mo-Su 08:00-18:00; PH off; Dec 31 off",
    "Mo-Su 09:30-21:30; Jan 01 off",
    "Mo-Fr 08:00-17:00; PH,Sa,Su off",
    "Mo-Su 07:30-11:30,13:30-21:30",
    "Mo-Su 08:00-21:00; Su 10:00-18:00",
    "off",
]
SIZES = (426, 10_000, 130_000)
N_TIMES = 200
BASELINE_SAMPLE = 10_000


def _stations(n: int, rng: np.random.Generator) -> list[str]:
    weights = rng.dirichlet(np.ones(len(EXPRESSIONS)))
    return [EXPRESSIONS[k] for k in rng.choice(len(EXPRESSIONS), n, p=weights)]


def _times(rng: np.random.Generator) -> list[dt.datetime]:
    # Distinct dates over two years so most calls are the first for their day (no cache help).
    start = dt.datetime(2025, 1, 1, tzinfo=TZ)
    days = rng.choice(730, N_TIMES, replace=False)
    seconds = rng.integers(0, 86_400, N_TIMES)
    return [start + dt.timedelta(days=int(d), seconds=int(s)) for d, s in zip(days, seconds)]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples) * 1e3
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def _time_open_at(table: HoursTable, times: list[dt.datetime]) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for t in times:
        began = time.perf_counter()
        table.open_at(t)
        cold.append(time.perf_counter() - began)
        # Same day, another minute: the day's profile is cached now.
        began = time.perf_counter()
        table.open_at(t + dt.timedelta(minutes=1))
        warm.append(time.perf_counter() - began)
    return cold, warm


def _time_baseline(expressions: list[str], times: list[dt.datetime]) -> list[float]:
    # The straightforward code: one compiled object per distinct expression, one is_open per
    # station. It is also wrong on China's holiday blocks; only its speed is compared here.
    compiled = {e: opening_hours.OpeningHours(e, country="CN") for e in set(expressions)}
    per_station = [compiled[e] for e in expressions]
    samples = []
    for t in times:
        naive = t.replace(tzinfo=None)
        began = time.perf_counter()
        np.fromiter((rules.is_open(naive) for rules in per_station), dtype=bool, count=len(per_station))
        samples.append(time.perf_counter() - began)
    return samples


def main() -> None:
    """Print p50/p99 of ``HoursTable.open_at`` at three sizes and the loop baseline."""
    rng = np.random.default_rng(426)
    times = _times(rng)
    base_expr = _stations(BASELINE_SAMPLE, rng)
    baseline = _time_baseline(base_expr, times[:20])
    base_p50_per_station = float(np.median(baseline)) / BASELINE_SAMPLE
    print(f"{len(EXPRESSIONS)} distinct expressions, {N_TIMES} distinct times (distinct dates)")
    print(f"baseline: per-station OpeningHours.is_open loop timed at {BASELINE_SAMPLE:,} stations, "
          f"{base_p50_per_station * 1e6:.2f} us/station, scaled linearly to other sizes")
    header = (f"{'stations':>9} {'build ms':>9} {'cold p50':>9} {'cold p99':>9} {'warm p50':>9} "
              f"{'warm p99':>9} {'loop p50':>9} {'ratio':>7}")
    print(header)
    print("-" * len(header))
    for n in SIZES:
        expressions = _stations(n, rng)
        began = time.perf_counter()
        table = HoursTable(expressions)
        build = (time.perf_counter() - began) * 1e3
        cold, warm = _time_open_at(table, times)
        cold50, cold99 = _percentiles(cold)
        warm50, warm99 = _percentiles(warm)
        loop50 = base_p50_per_station * n * 1e3
        print(f"{n:>9,} {build:>9.1f} {cold50:>9.3f} {cold99:>9.3f} {warm50:>9.3f} {warm99:>9.3f} "
              f"{loop50:>9.2f} {loop50 / cold50:>6.0f}x")
    print("times in ms; cold = first call for a new date, warm = same date again; "
          "ratio = loop p50 / cold p50")


if __name__ == "__main__":
    main()
