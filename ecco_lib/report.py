"""Result rows for people: status labels that show an incomplete check, and the summary lines
every human table ends with (rows left out of a mean, ``ok`` rows whose check could not run).

Rows are :meth:`Measurement.as_dict <ecco_lib.llvm.evaluate.Measurement.as_dict>` mappings (or
rows of a table made of them). An *unchecked* row has status ``ok``, ``checked`` false and an
``error`` saying why the differential check could not run (the -O0 reference timed out or did not
link, the output was too large, ...): its cycles are measured, its correctness is not known.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping

UNCHECKED_LABEL = "ok (unchecked)"


def is_unchecked(row: Mapping) -> bool:
    """An ``ok`` row whose requested differential check could not run."""
    return row.get("status") == "ok" and not row.get("checked") and bool(row.get("error"))


def status_label(row: Mapping) -> str:
    """The status as a human table shows it: ``ok (unchecked)`` for unchecked rows."""
    return UNCHECKED_LABEL if is_unchecked(row) else str(row.get("status"))


def labelled(rows: Iterable[Mapping]) -> list[dict]:
    """Copies of ``rows`` with ``status`` replaced by :func:`status_label` (for display only)."""
    return [{**row, "status": status_label(row)} for row in rows]


def _counts(statuses: Iterable[str]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(Counter(statuses).items()))


def unchecked_summary(rows: Iterable[Mapping]) -> str | None:
    """One line counting unchecked rows and naming the first reason; None when there are none."""
    rows = list(rows)
    unchecked = [r for r in rows if is_unchecked(r)]
    if not unchecked:
        return None
    ok = sum(1 for r in rows if r.get("status") == "ok")
    return (f"{len(unchecked)} of {ok} ok rows unchecked: the differential check could not run "
            f"(e.g. {unchecked[0]['program']}: {unchecked[0]['error']})")


def dropped_summary(rows: Iterable[Mapping], what: str | None = "the means") -> str | None:
    """One line counting the rows that are not ``ok``, by status, and saying they were left out
    of ``what`` (None: the rows are shown, only counted); None when every row is ok."""
    rows = list(rows)
    failed = [str(r.get("status")) for r in rows if r.get("status") != "ok"]
    if not failed:
        return None
    left_out = f", left out of {what}" if what else ""
    return f"{len(failed)} of {len(rows)} rows not ok{left_out}: {_counts(failed)}"


def summary_lines(rows: Iterable[Mapping], what: str | None = "the means") -> list[str]:
    """The summary lines of a human table of ``rows`` (possibly none)."""
    rows = list(rows)
    return [line for line in (dropped_summary(rows, what), unchecked_summary(rows)) if line]
