"""On-disk, content-addressed, crash-safe cache of evaluation steps (SQLite in WAL mode).

Tables, each keyed by a content hash:
- ``opt``: (input IR hash, opt pipeline text, LLVM version) -> optimized IR hash + instruction count
- ``backend``: (optimized IR hash, metric fingerprint, LLVM version) -> cycles, ``.text`` size
- ``runs``: (IR hash, build settings, LLVM version) -> output digest, exit code, runtime
- ``blobdata``: derived binary artifacts such as C compiled to bitcode
Every write is one SQLite transaction, so a killed process leaves either the whole entry or none.
Results that depend on wall-clock limits (``timeout``) are never stored.

A cache that cannot be used (a directory that cannot be created or written, a file that is not an
SQLite database) raises :class:`~ecco_lib.errors.EccoError` with one line naming the file;
:func:`reset` deletes a corrupt file and starts an empty one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from pathlib import Path

from ecco_lib.errors import EccoError

SCHEMA_VERSION = 1
TABLES = ("opt", "backend", "runs")
_FILE = f"evaluations-v{SCHEMA_VERSION}.sqlite"
_CORRUPT = ("file is not a database", "malformed")
_HINT = "run `ecco cache clear` (it deletes a corrupt file), set ECCO_CACHE_DIR, or pass --no-cache"


class CorruptCacheError(EccoError):
    """The cache file exists but is not a readable SQLite database."""


def default_cache_dir() -> Path:
    if os.environ.get("ECCO_CACHE_DIR"):
        return Path(os.environ["ECCO_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ecco"


class EvaluationCache:
    """Thread-safe handle on the cache database under ``directory`` (created on demand)."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else default_cache_dir()
        self.path = self.directory / _FILE
        self._lock = threading.Lock()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EccoError(f"cannot create the evaluation cache directory {self.directory}: "
                            f"{exc.strerror or exc}; set ECCO_CACHE_DIR or pass --no-cache") from None
        with self._errors():
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for table in TABLES:
                self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value TEXT)")
            self._db.execute("CREATE TABLE IF NOT EXISTS blobdata (key TEXT PRIMARY KEY, data BLOB)")

    @contextlib.contextmanager
    def _errors(self):
        """Turn SQLite failures (corrupt file, read-only directory, full disk) into one-line errors."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            kind = CorruptCacheError if any(c in str(exc) for c in _CORRUPT) else EccoError
            raise kind(f"evaluation cache {self.path} is unusable ({exc}); {_HINT}") from None

    def get(self, table: str, key: str) -> dict | None:
        with self._lock, self._errors():
            row = self._db.execute(f"SELECT value FROM {table} WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, table: str, key: str, value: dict) -> None:
        with self._lock, self._errors():
            self._db.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (key, json.dumps(value)))

    def get_blob(self, key: str) -> bytes | None:
        with self._lock, self._errors():
            row = self._db.execute("SELECT data FROM blobdata WHERE key=?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def put_blob(self, key: str, data: bytes) -> None:
        with self._lock, self._errors():
            self._db.execute("INSERT OR REPLACE INTO blobdata VALUES (?, ?)", (key, sqlite3.Binary(data)))

    def counts(self) -> dict[str, int]:
        with self._lock, self._errors():
            return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in (*TABLES, "blobdata")}

    def clear(self) -> None:
        with self._lock, self._errors():
            self._db.execute("BEGIN")
            for table in (*TABLES, "blobdata"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("COMMIT")
            self._db.execute("VACUUM")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def reset(directory: str | Path | None = None) -> EvaluationCache:
    """Empty the cache under ``directory``: rows are deleted when the database is readable (safe
    beside other running processes); a corrupt file (and its WAL and shared-memory files) is
    deleted and an empty database created. Returns the open, empty cache."""
    try:
        cache = EvaluationCache(directory)
        cache.clear()
        return cache
    except CorruptCacheError:
        path = (Path(directory) if directory else default_cache_dir()) / _FILE
    for suffix in ("", "-wal", "-shm"):
        try:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            raise EccoError(f"cannot delete the corrupt evaluation cache {path}{suffix}: {exc.strerror}") from None
    return EvaluationCache(directory)
