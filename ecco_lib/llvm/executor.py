"""Where evaluation steps run: in-process, a local process pool, or Ray tasks.

All three hand back :class:`concurrent.futures.Future` objects, so the scheduler has one code path.
Local pool workers watch their parent (:func:`ecco_lib.llvm.procs.start_watchdog`): after a
``kill -9`` of the driver they kill their tools and exit within about a second, never orphaned.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from ecco_lib.errors import EccoError
from ecco_lib.llvm.procs import start_watchdog


class InlineExecutor:
    """Runs each call at submission (one evaluation does not need a pool)."""

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # propagate like a pool would
            future.set_exception(exc)
        return future

    def shutdown(self) -> None:
        pass


class RayExecutor:
    """Runs each call as a Ray task (``address=None`` starts or joins a local instance)."""

    def __init__(self, address: str | None, jobs: int):
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - ray is part of the environment
            raise EccoError("executor 'ray' needs the ray package (pip install 'ray[default]')") from exc
        self._ray = ray
        if not ray.is_initialized():
            kwargs = {"address": address} if address else {"num_cpus": jobs, "include_dashboard": False}
            ray.init(ignore_reinit_error=True, log_to_driver=False, **kwargs)
        self._remote = {}

    def submit(self, fn, *args) -> Future:
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = self._ray.remote(num_cpus=1)(fn)
        return remote.remote(*args).future()

    def shutdown(self) -> None:
        pass  # the Ray instance belongs to the user's session; ray.shutdown() ends it


def make_executor(kind: str, jobs: int = 1, address: str | None = None):
    if kind == "inline":
        return InlineExecutor()
    if kind == "local":
        # fork: works from scripts without a __main__ guard; workers run only subprocesses, never torch.
        return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=start_watchdog, initargs=(os.getpid(),))
    if kind == "ray":
        return RayExecutor(address, jobs)
    raise EccoError(f"unknown executor '{kind}' (known: local, ray)")
