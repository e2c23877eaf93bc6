"""Tool subprocesses that never outlive their owner.

Every tool (opt, llc, llvm-mca, clang, a checked program) starts in its own session, so its
process group holds it and anything it starts (clang's linker, a program's children); the group
ids of live tools are tracked per process. A pool worker runs :func:`watch_parent` (a daemon
thread started by the pool's initializer): when its parent dies (even by ``kill -9``) it kills the
tracked groups and exits within about :data:`POLL_S` seconds. It polls ``os.getppid()`` instead of
using ``PR_SET_PDEATHSIG``, which fires when the *thread* that forked a worker ends; several
threads may drive one pool.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

#: Seconds between two parent checks of a worker's watchdog.
POLL_S = 0.5

_live: set[int] = set()  # process-group ids of this process's running tools
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked child (a pool worker) owns none of its parent's tools, and the lock may have been
    held by another thread at the fork."""
    global _lock
    _lock = threading.Lock()
    _live.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def spawn(cmd: list[str], **kwargs) -> subprocess.Popen:
    """``subprocess.Popen(cmd, **kwargs)`` in a new session, tracked until :func:`release`."""
    with _lock:
        proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        _live.add(proc.pid)
    return proc


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (the tool and everything it started); a no-op once
    ``proc`` has been waited for (its pid may belong to another process by then)."""
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def release(proc: subprocess.Popen) -> None:
    """Stop tracking ``proc`` (it has been waited for)."""
    with _lock:
        _live.discard(proc.pid)


def run(cmd: list[str], stdin: bytes | None, timeout: float, cwd: str | os.PathLike) -> subprocess.CompletedProcess | None:
    """Run ``cmd`` with ``stdin`` (None = empty), capturing stdout and stderr; None when it ran
    past ``timeout`` seconds (its whole process group is then killed). A tool that cannot start
    (e.g. E2BIG, a missing binary) gives return code 127 and an ``error:`` line on stderr."""
    try:
        proc = spawn(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    except OSError as exc:
        message = f"error: cannot start {os.path.basename(cmd[0])}: {exc.strerror or exc}"
        return subprocess.CompletedProcess(cmd, 127, b"", message.encode())
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        proc.communicate()
        return None
    except BaseException:
        kill(proc)
        proc.wait()
        raise
    finally:
        release(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_all_and_exit() -> None:
    """Kill every tracked tool group and end this process at once (holding the lock, so no new
    tool can start in between)."""
    _lock.acquire()
    for pgid in list(_live):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    os._exit(1)


def watch_parent(parent: int) -> None:
    """Poll every :data:`POLL_S` s; once ``parent`` is no longer this process's parent, kill the
    tracked tools and exit. Runs forever in a daemon thread."""
    while True:
        if os.getppid() != parent:
            _kill_all_and_exit()
        time.sleep(POLL_S)


def start_watchdog(parent: int) -> None:
    """Pool initializer: start :func:`watch_parent` for ``parent`` (the pid that made the pool)."""
    threading.Thread(target=watch_parent, args=(parent,), name="ecco-parent-watchdog", daemon=True).start()
