"""Figures of the paper's metric. Each function takes result rows and writes one PNG."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    os.replace(tmp, path)
    plt.close(fig)
    return path


def plot_o_levels(rows: pd.DataFrame, path: str | os.PathLike, seed: int = 0) -> Path:
    """One panel per suite: I_O3 (%) of each program at each -O level (bars), plus a last panel
    with the suite means and 95 % bootstrap intervals. Only ``ok`` rows are drawn."""
    ok = rows[rows["status"] == "ok"].assign(i_o3_pct=lambda d: 100 * d["i_o3"])
    levels = [l for l in ["O0", "O1", "O2", "O3", "Os", "Oz"] if l in set(ok["pipeline"])]
    suites = sorted(ok["suite"].unique())
    ncols = 4
    nrows = -(-(len(suites) + 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.6 * nrows), squeeze=False)
    palette = dict(zip(levels, sns.color_palette("colorblind", len(levels))))
    for ax, suite in zip(axes.flat, suites):
        data = ok[ok["suite"] == suite]
        sns.barplot(data=data, x="name", y="i_o3_pct", hue="pipeline", hue_order=levels, palette=palette,
                    ax=ax, legend=False)
        ax.set_title(suite)
        ax.set_xlabel("")
        ax.set_ylabel("I_O3 (%)")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.tick_params(axis="x", rotation=60, labelsize=7)
    summary_ax = axes.flat[len(suites)]
    sns.barplot(data=ok, x="suite", y="i_o3_pct", hue="pipeline", hue_order=levels, palette=palette,
                errorbar=("ci", 95), seed=seed, ax=summary_ax)
    summary_ax.set_title("suite means (95% bootstrap CI)")
    summary_ax.set_ylabel("I_O3 (%)")
    summary_ax.set_xlabel("")
    summary_ax.axhline(0, color="black", linewidth=0.8)
    summary_ax.tick_params(axis="x", rotation=45)
    summary_ax.legend(title="level", fontsize=7, ncols=2)
    for ax in list(axes.flat)[len(suites) + 1:]:
        ax.set_visible(False)
    fig.suptitle("Estimated cycles vs -O3 (llvm-mca; positive = fewer cycles than -O3)")
    fig.tight_layout()
    return _save(fig, path)
