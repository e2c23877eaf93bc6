"""``ecco reproduce``: execute the numbered notebooks in order with papermill.

Later stages add their notebook to :data:`NOTEBOOKS`; each notebook takes the parameter
``profile``, and a stage that reuses finished work (the training notebooks) also ``force``. Executed copies go to ``results/executed/``; the notebooks write ``results/*.csv``
and ``figures/*.png`` themselves through ``ecco_lib`` (all under ``$ECCO_OUTPUT_ROOT`` when set).
Each finished notebook's wall time is recorded in :data:`TIMES`.
"""

from __future__ import annotations

import time
from pathlib import Path

from ecco_lib.config import REPO_ROOT, load_profile, output_root
from ecco_lib.errors import EccoError

NOTEBOOK_DIR = REPO_ROOT / "notebooks"

#: The pipeline, in order.
NOTEBOOKS = (
    "00_environment_check",
    "01_benchmarks_and_o_levels",
    "02_dataset_construction",
    "03_cot_distillation",
    "04_sft",
    "05_grpo",
    "06_ga_collaboration",
    "07_rq1_comparison",
    "08_rq2_training",
    "09_rq3_collaboration",
    "10_rq4_faithfulness",
    "11_rq5_runtime",
)


#: Wall seconds per (profile, notebook, cache state at the start of the invocation), under the output root.
TIMES = Path("results") / "reproduce_times.csv"


class NotebookFailed(Exception):
    """A notebook raised; the message names the notebook and the error."""


def selected(only: list[str] | None = None) -> list[str]:
    if not only:
        return list(NOTEBOOKS)
    chosen = [n for n in NOTEBOOKS if any(n.startswith(prefix) for prefix in only)]
    if not chosen:
        raise EccoError(f"no notebook matches {', '.join(only)} (known: {', '.join(NOTEBOOKS)})")
    return chosen


def forced(names: list[str], force: list[str] | None) -> set[str]:
    """The notebooks among ``names`` that ``force`` (name prefixes) selects; each must declare a
    ``force`` parameter (a stage that reuses finished work), else one clear error."""
    if not force:
        return set()
    import papermill

    chosen = set(selected(force))
    for name in sorted(chosen):
        if "force" not in papermill.inspect_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb")):
            able = [n for n in NOTEBOOKS if "force" in papermill.inspect_notebook(str(NOTEBOOK_DIR / f"{n}.ipynb"))]
            raise EccoError(f"--force {name}: that notebook reuses nothing, it always recomputes what is not cached "
                            f"(stages with reusable work: {', '.join(able)})")
    return chosen & set(names)


def cache_state() -> str:
    """``empty`` when the evaluation cache (``$ECCO_CACHE_DIR``) holds no entry, else ``warm``."""
    from ecco_lib.llvm.cache import EvaluationCache

    cache = EvaluationCache()
    try:
        return "warm" if any(cache.counts().values()) else "empty"
    finally:
        cache.close()


def record_time(path: Path, profile: str, notebook: str, cache: str, seconds: float) -> Path:
    """Replace the row of (``profile``, ``notebook``, ``cache``) in the table at ``path`` with
    ``seconds`` (wall, rounded to 0.1) and today's UTC date; other rows stay. Rows in pipeline order."""
    import datetime

    import pandas as pd

    from ecco_lib.experiments import write_table

    columns = ["profile", "cache", "notebook", "seconds", "date"]
    table = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=columns)
    keep = ~((table["profile"] == profile) & (table["notebook"] == notebook) & (table["cache"] == cache))
    row = {"profile": profile, "cache": cache, "notebook": notebook, "seconds": round(seconds, 1),
           "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat()}
    table = pd.concat([table[keep], pd.DataFrame([row])], ignore_index=True)
    order = {n: i for i, n in enumerate(NOTEBOOKS)}
    table = table.sort_values(["profile", "cache", "notebook"], key=lambda c: c.map(order) if c.name == "notebook" else c)
    return write_table(table[columns].reset_index(drop=True), path)


def run_notebooks(profile: str = "default", only: list[str] | None = None,
                  output_dir: Path | None = None, force: list[str] | None = None) -> list[Path]:
    """Execute the selected notebooks with ``profile``; return the executed copies' paths
    (default directory: ``<output root>/results/executed``). ``force``: prefixes of stages whose
    finished work is redone (:func:`forced`)."""
    import papermill

    load_profile(profile)  # fail fast, with one line, on an unknown profile
    redo = forced(selected(only), force)
    output_dir = output_dir or output_root() / "results" / "executed"
    output_dir.mkdir(parents=True, exist_ok=True)
    cache, times = cache_state(), output_root() / TIMES
    outputs = []
    for name in selected(only):
        source = NOTEBOOK_DIR / f"{name}.ipynb"
        target = output_dir / f"{name}.ipynb"
        start = time.perf_counter()
        print(f"[reproduce] {name} (profile {profile}) ...", flush=True)
        try:
            papermill.execute_notebook(str(source), str(target), parameters={"profile": profile, **({"force": True} if name in redo else {})},
                                       cwd=str(NOTEBOOK_DIR), kernel_name="python3", progress_bar=True)
        except papermill.PapermillExecutionError as exc:
            raise NotebookFailed(f"{name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                                 f"(executed copy: {target})") from None
        seconds = time.perf_counter() - start
        record_time(times, profile, name, cache, seconds)
        print(f"[reproduce] {name} done in {seconds:.0f} s -> {target}", flush=True)
        outputs.append(target)
    return outputs
