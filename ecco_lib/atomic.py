"""Atomic file writes: a crash or kill never leaves a half-written result file.

Targets are regular files: a path that exists and is something else (a device such as
``/dev/null``, a FIFO, a directory) is refused with an :class:`~ecco_lib.errors.EccoError`, never
replaced. A symlink is followed: the file it points to is written and the link stays. A new file
gets ``0o666`` minus the umask (``0o644`` under the usual umask ``022``); an existing file keeps
its mode.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Iterator

from ecco_lib.errors import EccoError


def _target(path: str | os.PathLike) -> Path:
    """The file that will be written: ``path`` with symlinks followed; refuses non-regular files."""
    path = Path(path).expanduser()
    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise EccoError(f"cannot write {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise EccoError(f"cannot write {path}: it exists and is {kind} (give a file path)")
    return target


def _create_temp(directory: Path, stem: str, suffix: str, mode: int) -> Path:
    """A new, empty file in ``directory`` created with ``mode`` (the umask applies)."""
    for _ in range(100):
        tmp = directory / f".{stem}.{secrets.token_hex(4)}.tmp{suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise OSError(errno.EEXIST, f"no free temporary name in {directory}")


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, with one line, if :func:`atomic_path` could not write ``path`` later: call it
    before a long run. Creates missing parent directories; returns the file that will be written."""
    target = _target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _create_temp(target.parent, target.stem, target.suffix, 0o600).unlink()
    except OSError as exc:
        raise EccoError(f"cannot write {path}: {exc.strerror or exc} ({target.parent})") from None
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside the target; on success it replaces the target in one rename.

    The target is ``path`` with symlinks followed; a non-regular existing file raises
    :class:`EccoError` before anything is written.
    """
    target = _target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EccoError(f"cannot write {path}: {exc.strerror or exc} ({target.parent})") from None
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666
    tmp = _create_temp(target.parent, target.stem, target.suffix, mode)
    if target.exists():
        os.chmod(tmp, mode)  # keep the existing file's mode exactly, whatever the umask
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | os.PathLike, data) -> Path:
    return write_text(path, json.dumps(data, indent=1) + "\n")
