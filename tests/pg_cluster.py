"""A throwaway PostgreSQL + PostGIS cluster for tests and benchmarks: started in a temporary directory, stopped and removed.

Built from Debian's ``postgresql-15`` and ``postgresql-15-postgis-3`` packages (``make postgis-deps`` installs
them): ``initdb`` in a fresh temporary directory, a server that listens on a Unix socket in that directory only
(no TCP port, no system service), one database with the ``postgis`` extension. ``initdb`` refuses to run as
root, so when we are root (CI is) every server command runs as the ``postgres`` user, which owns the directory.

Only the standard library is used here; callers connect to :attr:`Cluster.url` with the driver of their choice
(the benchmark uses psycopg).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

#: The server binaries of Debian's postgresql-15 package.
PG_BIN = Path(os.environ.get("NUANXIN_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: The PostGIS extension's control file, present when postgresql-15-postgis-3 is installed.
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
#: The account that runs the server when we are root.
SERVER_USER = "postgres"
#: Settings for a cluster whose data is thrown away: no durability work, a log to read when something fails.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
_START_TIMEOUT_S = 60


def missing() -> list[str]:
    """What this machine lacks to start a cluster, naming the Debian package (empty when nothing is missing)."""
    out = []
    if not all((PG_BIN / tool).exists() for tool in ("initdb", "pg_ctl", "psql")):
        out.append(f"postgresql-15 (no initdb/pg_ctl/psql in {PG_BIN})")
    if not POSTGIS_CONTROL.exists():
        out.append(f"postgresql-15-postgis-3 (no {POSTGIS_CONTROL})")
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam(SERVER_USER)
        except KeyError:
            out.append(f"the '{SERVER_USER}' user (created by postgresql-15)")
    return out


@dataclass(frozen=True)
class Cluster:
    """A running throwaway cluster."""

    #: The directory holding everything: ``data/``, the Unix socket and ``server.log``.
    root: Path
    dbname: str
    user: str
    #: The postmaster's process id.
    pid: int

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def url(self) -> str:
        """A libpq URL over the Unix socket: ``postgresql:///db?host=<dir>&user=postgres``."""
        return f"postgresql:///{self.dbname}?host={self.socket_dir}&user={self.user}"

    def psql(self, sql: str, dbname: str | None = None) -> str:
        """Run ``sql`` with psql (stopping at the first error); its unaligned, tuples-only output."""
        return _run([str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
                     "-U", self.user, "-d", dbname or self.dbname, "-c", sql], cwd=self.root).stdout


def _as_server_user(argv: Sequence[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *argv] if os.geteuid() == 0 else list(argv)


def _run(argv: Sequence[str], cwd: Path) -> subprocess.CompletedProcess:
    # The server user cannot read root's working directory: every command runs from the cluster's own.
    done = subprocess.run(_as_server_user(argv), cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs: an exited one waiting for init to reap it (a zombie) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _stop(root: Path) -> None:
    """Stop the server (fast shutdown, then SIGKILL to what is left) and remove ``root``."""
    data_dir = root / "data"
    pid = _postmaster_pid(data_dir)
    try:
        if pid is not None and alive(pid):
            with suppress(RuntimeError):
                _run([str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "-t", "30", "stop"], cwd=root)
            # pg_ctl returns when the pid file is gone, a moment before the postmaster has exited
            if not _wait_gone(pid, 10):
                os.kill(pid, signal.SIGKILL)  # its children end with it
                _wait_gone(pid, 10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def throwaway_cluster(dbname: str = "nuanxin", extensions: Sequence[str] = ("postgis",),
                      settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start a cluster in a new temporary directory; yield it; stop it and remove the directory, also on error.

    Parameters
    ----------
    dbname : str
        The database created for the caller.
    extensions : sequence of str
        Extensions created in it (``postgis`` by default).
    settings : dict, optional
        Server settings passed as ``-c name=value`` on top of :data:`THROWAWAY_SETTINGS`.

    Raises
    ------
    RuntimeError
        When a package is missing (see :func:`missing`) or a server command fails (its message, and the
        server log's tail when the server did not start).
    """
    lacking = missing()
    if lacking:
        raise RuntimeError(f"cannot start a PostgreSQL cluster, missing: {'; '.join(lacking)} (run `make postgis-deps`)")
    root = Path(tempfile.mkdtemp(prefix="nuanxin-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(root, user=SERVER_USER, group=SERVER_USER)
        data_dir = root / "data"
        _run([str(PG_BIN / "initdb"), "-D", str(data_dir), "-U", SERVER_USER, "-A", "trust", "-E", "UTF8",
              "--no-locale", "--no-sync", "--no-instructions"], cwd=root)
        options = {**THROWAWAY_SETTINGS, **(settings or {})}
        # Unix socket only: no TCP listener; the socket in our own directory, never /var/run/postgresql
        server_options = " ".join([f"-k {root}", "-c listen_addresses=''"] + [f"-c {k}={v}" for k, v in options.items()])
        try:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-l", str(root / "server.log"), "-w",
                  "-t", str(_START_TIMEOUT_S), "-o", server_options, "start"], cwd=root)
        except RuntimeError as err:
            tail = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").exists() else ""
            raise RuntimeError(f"{err}\nserver log:\n{tail}") from err
        pid = _postmaster_pid(data_dir)
        if pid is None:
            raise RuntimeError(f"the server started but wrote no postmaster.pid in {data_dir}")
        cluster = Cluster(root=root, dbname=dbname, user=SERVER_USER, pid=pid)
        cluster.psql(f'CREATE DATABASE "{dbname}"', dbname="postgres")
        for extension in extensions:
            cluster.psql(f'CREATE EXTENSION IF NOT EXISTS "{extension}"')
        yield cluster
    finally:
        _stop(root)
