"""What every store offers: the Store protocol, one edit (Change), the dataset's description, the errors."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd


class StoreError(RuntimeError):
    """The store cannot do what was asked (missing file or layer, version conflict)."""


class VersionConflict(StoreError):
    """The row changed since the version the editor saw: reload and apply the change again."""

    def __init__(self, layer: str, row_id: str, expected: int, actual: int):
        self.layer, self.row_id, self.expected, self.actual = layer, row_id, expected, actual
        super().__init__(f"layer {layer!r}, row {row_id}: expected version {expected}, but it is now {actual}; "
                         "reload and apply the change again")


@dataclass
class Change:
    """One edit of one row: new values for some columns, optionally guarded by the version seen."""

    id: str
    values: Mapping[str, Any]
    expected_version: int | None = None


@dataclass
class DatasetInfo:
    """What the dataset is: demonstration data or not, how it was built."""

    demo: bool
    seed: int | None
    built_at: str | None
    description: str = ""
    extra: dict = field(default_factory=dict)


class Store(Protocol):
    """What the app needs from storage; nothing outside ``mapdata/store`` knows about files or SQL."""

    def exists(self) -> bool:
        """Whether there is a dataset to read."""

    def version(self, layer: str | None = None) -> str:
        """An opaque token that changes whenever the data changes: of one layer, or of the whole dataset.

        Structures derived from data (the station finder, the road network, the coverage model)
        are rebuilt when it changes, and only then.
        """

    def layers(self) -> list[str]:
        """The layers stored."""

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as a validated GeoDataFrame in EPSG:4326 (a copy: change it freely)."""

    def write_dataset(self, layers: Mapping[str, gpd.GeoDataFrame], info: DatasetInfo,
                      carry: Mapping[str, tuple[list[str], list[tuple]]] | None = None) -> None:
        """Replace the whole dataset, all or nothing; ``carry``: side tables' columns and rows to write as they
        are (``python -m mapdata.copy``)."""

    def apply_changes(self, layer: str, changes: Iterable[Change], user: str,
                      now: datetime | None = None, action: str = "update") -> gpd.GeoDataFrame:
        """Edit rows in one transaction with their versions and audit entries; return the changed rows."""

    def insert_rows(self, layer: str, rows: gpd.GeoDataFrame, user: str, now: datetime | None = None,
                    action: str = "insert") -> gpd.GeoDataFrame:
        """Add rows (version 1, audited) in one transaction."""

    def confirm(self, layer: str, ids: Iterable[str], user: str, now: datetime | None = None):
        """Record that ``user`` found these rows right, without changing their data or versions."""

    def upgrade(self) -> list[str]:
        """Bring a store made by an older release up to this release's schemas, in place."""

    @property
    def accounts(self):
        """Staff accounts and API tokens (``mapdata.store.accounts.AccountTable``)."""

    @property
    def calendar(self):
        """The published holiday calendar (``mapdata.store.calendar.CalendarTable``)."""

    @property
    def reports(self):
        """Riders' reports, points and rewards (``mapdata.store.reports.ReportTable``)."""

    @property
    def throttle(self):
        """Failed logins, counted for every worker (``mapdata.store.throttle.ThrottleTable``)."""

    @property
    def uploads(self):
        """Planners' uploads under their tokens (``mapdata.store.uploads.UploadTable``)."""

    @property
    def jobs(self):
        """Long jobs and their progress, cancel flags and results (``mapdata.store.jobs.JobTable``)."""

    def audit_log(self, layer: str | None = None, row_id: str | None = None) -> pd.DataFrame:
        """The history of edits, oldest first."""

    def info(self) -> DatasetInfo:
        """The dataset's description."""
