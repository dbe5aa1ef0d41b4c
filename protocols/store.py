"""The resumable trial store: every finished unit of a sweep, kept durably as it completes.

One SQLite file per run under the results directory (``OUT/.trials/EXPERIMENT-HASH.sqlite``), in
WAL mode with full synchronisation, one transaction per unit: a run killed at any moment loses at
most the units in flight (a run that stops with an error, a contract breach or a leak, removes
its store instead: nothing half-written). The store records whom it belongs to (the experiment, its config, the
seed, the suite's version and git commit); running the same command again reads the finished units back and
measures only the rest (:func:`protocols.runner.run_sweep`), and since every row is kept as the
canonical JSON the runner produces anyway, the files come out byte-identical to an uninterrupted
run. A store at that path written for another run (the path's hash names the run), a file that is
not a store, or a damaged one is a clear
:class:`~caches.params.ParameterError` (exit 2) naming the file and the way out (``--fresh``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import sqlite3
from pathlib import Path

from caches.params import ParameterError

#: Layout of the store's tables; a store of another format is refused.
FORMAT = "compression-barriers trial store 1"


def store_path(out: Path, experiment: str, config: dict, seed: int) -> Path:
    """Where the store of this run lives under the results directory ``out``: one file per run
    (experiment, config, seed, version; :func:`owner`), so runs of other configs keep theirs."""
    digest = hashlib.sha256(owner(experiment, config, seed).encode()).hexdigest()[:16]
    return Path(out) / ".trials" / f"{experiment}-{digest}.sqlite"


def owner(experiment: str, config: dict, seed: int) -> str:
    """The canonical description of a run a store belongs to."""
    try:
        version = importlib.metadata.version("compression-barriers")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return json.dumps({"experiment": experiment, "config": config, "seed": seed, "version": version,
                       "revision": source_revision()}, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=1)
def source_revision() -> str:
    """The source tree's commit, with ``-dirty`` if it has uncommitted changes (which a store cannot
    tell apart); ``unknown`` outside git."""
    import subprocess

    source = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=True)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=source, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


class TrialStore:
    """The finished units of one run (:func:`owner`), in the SQLite file ``path``.

    ``fresh=True`` deletes an existing file first (``barriers run --fresh``). The file is created
    with the first unit kept. Use as a context manager; :meth:`finished` reads every kept unit,
    :meth:`put` keeps one more, :meth:`discard` removes the store.
    """

    def __init__(self, path: Path, experiment: str, config: dict, seed: int, fresh: bool = False) -> None:
        self.path = Path(path)
        self.owner = owner(experiment, config, seed)
        self.db: sqlite3.Connection | None = None
        self.created: list[Path] = []  # directories this store made, removed again by discard()
        if fresh:
            self._remove_files()
        if self.path.exists():
            try:
                self.db = self._connect()
                self._check_owner()
            except sqlite3.DatabaseError as error:
                raise self._unreadable(error) from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _create(self) -> None:
        missing = [parent for parent in [self.path.parent, *self.path.parent.parents] if not parent.exists()]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.created = missing
        self.db = self._connect()
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self.db.execute("CREATE TABLE units (key TEXT PRIMARY KEY, rows TEXT NOT NULL)")
            self.db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", FORMAT), ("owner", self.owner)])

    def _check_owner(self) -> None:
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"meta", "units"} <= tables:
            raise ParameterError(f"{self.path} is not a trial store of barriers (tables {sorted(tables)}): "
                                 "remove it or run with --fresh")
        meta = dict(self.db.execute("SELECT name, value FROM meta"))
        if meta.get("format") != FORMAT:
            raise ParameterError(f"{self.path} is a trial store of another format ({meta.get('format')!r}): "
                                 "remove it or run with --fresh")
        if meta.get("owner") != self.owner:
            raise ParameterError(f"{self.path} holds the trials of another run ({_difference(meta.get('owner'), self.owner)}): "
                                 "run with --fresh to start over, or choose another --out")

    def _unreadable(self, error: Exception) -> ParameterError:
        return ParameterError(f"{self.path} is not a readable trial store ({error}): remove it or run with --fresh")

    def finished(self) -> dict[str, list[dict]]:
        """Every kept unit: its key and its rows."""
        if self.db is None:
            return {}
        try:
            return {key: json.loads(rows) for key, rows in self.db.execute("SELECT key, rows FROM units")}
        except (sqlite3.DatabaseError, json.JSONDecodeError) as error:
            raise self._unreadable(error) from None

    def keys(self) -> set[str]:
        """The keys of the kept units (without reading their rows)."""
        if self.db is None:
            return set()
        try:
            return {key for (key,) in self.db.execute("SELECT key FROM units")}
        except sqlite3.DatabaseError as error:
            raise self._unreadable(error) from None

    def record_outputs(self, directory: Path) -> None:
        """Remember the files written from the finished units (name and SHA-256 of each)."""
        if self.db is None:
            self._create()
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('outputs', ?)", (json.dumps(_digests(directory)),))

    def outputs_current(self, directory: Path) -> bool:
        """Whether ``directory`` holds exactly the files :meth:`record_outputs` recorded, unchanged.

        Only at a clean git revision: in a modified tree the owner cannot tell two versions of the
        summary or figure code apart, so their files are always made again.
        """
        revision = json.loads(self.owner)["revision"]
        if self.db is None or revision == "unknown" or revision.endswith("-dirty"):
            return False
        recorded = self.db.execute("SELECT value FROM meta WHERE name = 'outputs'").fetchone()
        return recorded is not None and json.loads(recorded[0]) == _digests(directory)

    def put(self, key: str, rows: list[dict]) -> None:
        """Keep one finished unit (committed and synced before this returns)."""
        text = json.dumps(rows, separators=(",", ":"), allow_nan=False)  # key order is the CSV's column order
        if self.db is None:
            self._create()
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO units VALUES (?, ?)", (key, text))

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def discard(self) -> None:
        """Remove the store and the directories it created (a run that failed leaves nothing)."""
        self.close()
        self._remove_files()
        for directory in self.created:
            try:
                directory.rmdir()
            except OSError:  # not empty: something else lives there
                break

    def __enter__(self) -> "TrialStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _digests(directory: Path) -> dict[str, str]:
    """SHA-256 of every file in ``directory`` by name (empty when it does not exist)."""
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(directory.iterdir()) if path.is_file()}


def _difference(stored: str | None, wanted: str) -> str:
    """Which part of the owner differs, in words."""
    try:
        old, new = json.loads(stored or "{}"), json.loads(wanted)
    except json.JSONDecodeError:
        return "unreadable owner"
    for part in ("experiment", "seed", "version", "revision"):
        if old.get(part) != new.get(part):
            return f"{part} {old.get(part)!r}, not {new.get(part)!r}"
    old_config, new_config = old.get("config") or {}, new.get("config") or {}
    for name in sorted(set(old_config) | set(new_config)):
        if old_config.get(name) != new_config.get(name):
            return f"config {name}={json.dumps(old_config.get(name))}, not {json.dumps(new_config.get(name))}"
    return "another owner"
