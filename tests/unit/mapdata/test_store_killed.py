"""A writer killed with SIGKILL in the middle of edits leaves the store valid, with every acknowledged edit."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

from mapdata.store import open_store

WRITER = """
import sys
from mapdata.store import Change, GeoPackageStore, open_store
store = GeoPackageStore(sys.argv[1])
version = int(store.read("stations").set_index("id").loc["st-0002", "version"])
k = 0
while True:
    store.apply_changes("stations", [Change("st-0002", {"capacity": k % 500, "status_note": f"edit {k}"}, version)],
                        user="writer")
    version += 1
    print(version, flush=True)  # acknowledged: committed
    k += 1
"""


def test_a_killed_writer_loses_no_acknowledged_edit(writable_db):
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(writable_db)], stdout=subprocess.PIPE, text=True,
                                cwd=os.getcwd())
        acknowledged = []
        deadline = time.monotonic() + 60
        while len(acknowledged) < 5 + 3 * round_ and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line:
                acknowledged.append(int(line))
        time.sleep(0.01 * round_)  # land the kill at different points of the next edit
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert acknowledged, "the writer never acknowledged an edit"
        with closing(sqlite3.connect(writable_db)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store = open_store(writable_db)
        row = store.read("stations").set_index("id").loc["st-0002"]  # validates the whole layer
        assert row["version"] >= acknowledged[-1]
        versions = {e["version"] for e in store.audit_log("stations", "st-0002")["after"]}
        assert set(range(2, int(row["version"]) + 1)) <= versions  # every committed edit has its audit row
