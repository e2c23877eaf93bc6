"""On-disk, content-addressed, crash-safe cache of evaluation steps (SQLite in WAL mode).

Tables, each keyed by a content hash:
- ``opt``: (input IR hash, opt pipeline text, LLVM version) -> optimized IR hash + instruction count
- ``backend``: (optimized IR hash, metric fingerprint, LLVM version) -> cycles, ``.text`` size
- ``runs``: (IR hash, build settings, LLVM version) -> output digest, exit code, runtime
- ``blobdata``: derived binary artifacts such as C compiled to bitcode
Every write is one SQLite transaction, so a killed process leaves either the whole entry or none.
Results that depend on wall-clock limits (``timeout``) are never stored.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

SCHEMA_VERSION = 1
TABLES = ("opt", "backend", "runs")


def default_cache_dir() -> Path:
    if os.environ.get("ECCO_CACHE_DIR"):
        return Path(os.environ["ECCO_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ecco"


class EvaluationCache:
    """Thread-safe handle on the cache database under ``directory`` (created on demand)."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"evaluations-v{SCHEMA_VERSION}.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for table in TABLES:
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS blobdata (key TEXT PRIMARY KEY, data BLOB)")

    def get(self, table: str, key: str) -> dict | None:
        with self._lock:
            row = self._db.execute(f"SELECT value FROM {table} WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, table: str, key: str, value: dict) -> None:
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (key, json.dumps(value)))

    def get_blob(self, key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM blobdata WHERE key=?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def put_blob(self, key: str, data: bytes) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO blobdata VALUES (?, ?)", (key, sqlite3.Binary(data)))

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in (*TABLES, "blobdata")}

    def clear(self) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            for table in (*TABLES, "blobdata"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("COMMIT")
            self._db.execute("VACUUM")

    def close(self) -> None:
        with self._lock:
            self._db.close()
