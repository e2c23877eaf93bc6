"""Figures of the paper's metric. Each function takes result rows and writes one PNG.

Figures are built on :class:`matplotlib.figure.Figure` directly, so no global pyplot state or
backend is touched (safe in notebooks, scripts and worker processes alike).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ecco_lib.atomic import atomic_path


def _save(fig, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    return Path(path)


def plot_o_levels(rows: pd.DataFrame, path: str | os.PathLike, seed: int = 0) -> Path:
    """One panel per suite: I_O3 (%) of each program at each -O level (bars), plus a last panel
    with the suite means and 95 % bootstrap intervals. Only ``ok`` rows are drawn; the title
    counts the rows left out."""
    from ecco_lib.report import dropped_summary

    ok = rows[rows["status"] == "ok"].assign(i_o3_pct=lambda d: 100 * d["i_o3"])
    levels = [l for l in ["O0", "O1", "O2", "O3", "Os", "Oz"] if l in set(ok["pipeline"])]
    suites = sorted(ok["suite"].unique())
    ncols = 4
    nrows = -(-(len(suites) + 1) // ncols)
    fig = Figure(figsize=(5 * ncols, 3.6 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
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
    dropped = dropped_summary(rows.to_dict("records"), "this figure")
    fig.suptitle("Estimated cycles vs -O3 (llvm-mca; positive = fewer cycles than -O3)"
                 + (f"\n{dropped}" if dropped else ""))
    fig.tight_layout()
    return _save(fig, path)


def plot_search(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Searched best sequences per suite: I_O3 (%) and gain over -Oz (%), one dot per program."""
    data = table.assign(i_o3_pct=100 * table["i_o3"], vs_oz_pct=100 * table["vs_Oz"])
    fig = Figure(figsize=(11, 3.8))
    axes = fig.subplots(1, 2)
    for ax, column, title in ((axes[0], "i_o3_pct", "searched vs -O3"), (axes[1], "vs_oz_pct", "searched vs -Oz")):
        sns.boxplot(data=data, x="suite", y=column, ax=ax, color="0.9", fliersize=0)
        sns.stripplot(data=data, x="suite", y=column, ax=ax, size=3, color="tab:blue")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set(title=title, xlabel="", ylabel="fewer cycles (%)")
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return _save(fig, path)


def plot_pruning(prunes: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Algorithm 1: sequence lengths before/after, and cycles before vs after (never above y = x)."""
    fig = Figure(figsize=(11, 3.8))
    axes = fig.subplots(1, 2)
    lengths = pd.concat([pd.DataFrame({"length": prunes["length_before"], "sequence": "searched"}),
                         pd.DataFrame({"length": prunes["length_after"], "sequence": "core"})])
    sns.histplot(data=lengths, x="length", hue="sequence", discrete=True, ax=axes[0])
    axes[0].set_title(f"length: {prunes['length_before'].mean():.1f} -> {prunes['length_after'].mean():.1f} (mean)")
    axes[1].scatter(prunes["cycles_before"], prunes["cycles_after"], s=10)
    top = max(prunes["cycles_before"].max(), prunes["cycles_after"].max())
    axes[1].plot([0, top], [0, top], color="black", linewidth=0.8)
    axes[1].set(title="cycles of core vs searched sequence", xlabel="searched", ylabel="core")
    fig.tight_layout()
    return _save(fig, path)


def plot_prior(prior, path: str | os.PathLike, top: int = 20) -> Path:
    """The efficacy prior: the ``top`` passes by mean marginal gain, and the category means."""
    fig = Figure(figsize=(11, 5))
    axes = fig.subplots(1, 2, width_ratios=[3, 2])
    seen = prior.passes[prior.passes["count"] > 0].sort_values("mean_gain", ascending=False).head(top)
    sns.barplot(y=seen.index, x=100 * seen["mean_gain"], hue=seen["category"], dodge=False, ax=axes[0])
    axes[0].set(title="star passes: mean marginal gain", xlabel="% of -O3 cycles", ylabel="")
    axes[0].legend(fontsize=7)
    cats = prior.categories[prior.categories["count"] > 0]
    sns.barplot(y=cats.index, x=100 * cats["mean_gain"], ax=axes[1], color="tab:gray")
    axes[1].set(title="per category", xlabel="% of -O3 cycles", ylabel="")
    fig.tight_layout()
    return _save(fig, path)


def plot_training_curves(log: pd.DataFrame, columns: dict[str, str], path: str | os.PathLike,
                         hue: str | None = None, title: str = "", x: str = "step",
                         xlabel: str = "optimizer step") -> Path:
    """One panel per ``columns`` entry (log column -> panel title) against ``x``; one line per
    ``hue`` value (e.g. the dataset variant, or the program)."""
    present = {c: t for c, t in columns.items() if c in log.columns}
    fig = Figure(figsize=(5 * len(present), 3.6))
    axes = fig.subplots(1, len(present), squeeze=False)[0]
    for ax, (column, panel) in zip(axes, present.items()):
        sns.lineplot(data=log.dropna(subset=[column]), x=x, y=column, hue=hue, marker="o", ax=ax)
        ax.set(title=panel, xlabel=xlabel, ylabel="")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


#: The answer-quality rates of :func:`ecco_lib.strategist.summarize_outputs`, as plotted.
STAGE_RATES = {"format_valid_rate": "parses", "valid_passes_rate": "valid passes",
               "intents_well_formed_rate": "intents sum to 1", "ok_rate": "compiles ok"}


def plot_stages(summary: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Greedy answers per training stage (rows of ``summary``: one
    :func:`~ecco_lib.strategist.summarize_outputs` dict per stage, the stage as index): the
    answer-quality rates (left) and mean I_O3 over all answers, a failed answer counting 0 (right)."""
    rates = (summary[list(STAGE_RATES)].rename(columns=STAGE_RATES).rename_axis("stage").reset_index()
             .melt(id_vars="stage", var_name="check", value_name="rate"))
    fig = Figure(figsize=(12, 3.8))
    axes = fig.subplots(1, 2, width_ratios=[3, 1.4])
    sns.barplot(data=rates, x="check", y="rate", hue="stage", ax=axes[0])
    axes[0].set(title="greedy answers on held-out programs", xlabel="", ylabel="fraction of answers", ylim=(0, 1.05))
    axes[0].legend(fontsize=7)
    sns.barplot(x=summary.index, y=100 * summary["mean_i_o3_all"].astype(float), ax=axes[1], color="tab:gray")
    axes[1].axhline(0, color="black", linewidth=0.8)
    axes[1].set(title="mean I_O3 (failed answer = 0)", xlabel="", ylabel="I_O3 (%)")
    axes[1].tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return _save(fig, path)


def plot_pass_distribution(sampler, path: str | os.PathLike, top: int = 25) -> Path:
    """The Eq. 4 mutation distribution of an :class:`~ecco_lib.search.intent.IntentGuidedSampler`
    next to uniform sampling: the ``top`` most probable passes (%, coloured by category; dashed line:
    the uniform 1/|V|), and the probability mass per category under Eq. 4 and under uniform."""
    from ecco_lib.llvm.passes import CATEGORIES, lookup

    probs = sampler.probabilities()
    uniform = 100 / len(probs)
    table = pd.DataFrame({"pass": list(probs), "probability": [100 * p for p in probs.values()],
                          "category": [lookup(p).category for p in probs]})
    head = table.sort_values("probability", ascending=False, kind="stable").head(top)
    palette = dict(zip(CATEGORIES, sns.color_palette("husl", len(CATEGORIES))))
    fig = Figure(figsize=(12, max(4.0, 0.22 * len(head) + 1.5)))
    axes = fig.subplots(1, 2, width_ratios=[3, 2])
    sns.barplot(data=head, y="pass", x="probability", hue="category", palette=palette, dodge=False, ax=axes[0])
    axes[0].axvline(uniform, color="black", linestyle="--", linewidth=0.8, label=f"uniform 1/|V| = {uniform:.2f}%")
    axes[0].set(title=f"top {len(head)} of {len(probs)} passes", xlabel="P(v) (%)", ylabel="")
    axes[0].legend(fontsize=7)
    present = [c for c in CATEGORIES if c in set(table["category"])]
    mass = pd.concat([table.groupby("category")["probability"].sum().reindex(present).rename("Eq. 4"),
                      (table.groupby("category").size().reindex(present) * uniform).rename("uniform")], axis=1)
    mass = mass.rename_axis("category").reset_index().melt(id_vars="category", var_name="sampler",
                                                           value_name="mass")
    sns.barplot(data=mass, y="category", x="mass", hue="sampler", palette=["tab:blue", "0.7"], ax=axes[1])
    axes[1].set(title="per category", xlabel="probability mass (%)", ylabel="")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"Eq. 4 pass distribution (case {sampler.case}, eps = {sampler.eps:g}, "
                 f"dropped intent mass {sampler.dropped_intent_mass:.2f})")
    fig.tight_layout()
    return _save(fig, path)


def plot_best_so_far(curves: pd.DataFrame, path: str | os.PathLike, seed: int = 0,
                     title: str = "best so far, mean over programs and seeds") -> Path:
    """Sample-efficiency curves: I_O3 (%) of the best sequence found so far against the number of
    evaluations spent, one line per method, mean over (program, seed) cells with a 95 % bootstrap
    band (seaborn; cells resampled). ``curves`` is :func:`ecco_lib.experiments.best_so_far`'s table."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    data = curves.assign(i_o3_pct=lambda d: 100 * d["i_o3"])
    sns.lineplot(data=data, x="evaluation", y="i_o3_pct", hue="method", errorbar=("ci", 95), n_boot=1000,
                 seed=seed, ax=ax)
    ax.set_xlabel("evaluations (the budget unit)")
    ax.set_ylabel("I_O3 of the best so far (%)")
    ax.set_title(title)
    return _save(fig, path)


def plot_paired_differences(table: pd.DataFrame, path: str | os.PathLike, baseline: str = "ga",
                            title: str | None = None) -> Path:
    """Mean paired difference of I_O3 against ``baseline`` (percentage points) per method, with its
    bootstrap interval as an error bar; ``table`` has ``method, mean_difference, ci_low, ci_high``
    (:func:`ecco_lib.experiments.sweep_summary`, or ``paired_differences`` rows of one suite)."""
    data = table.dropna(subset=["mean_difference"]).iloc[::-1]
    fig = Figure(figsize=(7, 0.45 * len(data) + 1.4))
    ax = fig.subplots()
    y = range(len(data))
    low = 100 * (data["mean_difference"] - data["ci_low"]).fillna(0)
    high = 100 * (data["ci_high"] - data["mean_difference"]).fillna(0)
    ax.errorbar(100 * data["mean_difference"], y, xerr=[low, high], fmt="o", capsize=3)
    ax.axvline(0, color="grey", lw=1, ls="--")
    ax.set_yticks(list(y), data["method"])
    ax.set_xlabel(f"I_O3 minus {baseline}'s on the same cells (percentage points, 95 % bootstrap interval)")
    ax.set_title(title or f"paired difference against {baseline}")
    return _save(fig, path)


def plot_method_intervals(table: pd.DataFrame, path: str | os.PathLike, title: str = "headline I_O3") -> Path:
    """Each method's headline I_O3 (%) with its bootstrap interval, best on top; ``table`` has
    ``method, mean, ci_low, ci_high`` (:func:`ecco_lib.comparison.method_intervals`)."""
    data = table.sort_values("mean").reset_index(drop=True)
    fig = Figure(figsize=(7, 0.45 * len(data) + 1.4))
    ax = fig.subplots()
    low = 100 * (data["mean"] - data["ci_low"]).fillna(0)
    high = 100 * (data["ci_high"] - data["mean"]).fillna(0)
    ax.errorbar(100 * data["mean"], range(len(data)), xerr=[low, high], fmt="o", capsize=3)
    ax.axvline(0, color="grey", lw=1, ls="--")
    ax.set_yticks(list(range(len(data))), data["method"])
    ax.set_xlabel("I_O3 (%, unweighted mean of suite means; 95 % bootstrap interval)")
    ax.set_title(title)
    return _save(fig, path)


def plot_intent_alignment(table: pd.DataFrame, path: str | os.PathLike, method: str = "ecco",
                          control: str = "ga") -> Path:
    """Per (program, seed): the distance of the method's final best sequence to its own intents
    (x) against the control's final best to the same intents (y); points above the diagonal
    follow the intents more closely than the control. ``table``:
    :func:`ecco_lib.collaboration.intent_alignment` (empty: the figure says nothing was measurable)."""
    fig = Figure(figsize=(5.2, 4.8))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
    if table.empty:
        ax.text(0.5, 0.5, "no cell with well-formed intents", ha="center", va="center")
    else:
        sns.scatterplot(data=table, x="tv_method", y="tv_control", hue="suite", style="suite", s=60, ax=ax)
        chance = table["tv_chance"].mean()
        ax.axhline(chance, color="grey", lw=0.8, ls=":", label=f"uniform draw ({chance:.2f})")
        ax.legend(fontsize=7, loc="lower right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"{method}: final best vs its intents (total variation)")
    ax.set_ylabel(f"{control}: final best vs the same intents")
    ax.set_title("do final sequences follow the strategist's intents?")
    return _save(fig, path)


def plot_strategist_modes(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """RQ2: mean I_O3 (%) per strategist with its 95 % interval, one panel per decoding mode
    (greedy, Best-of-N alone, with the GA). ``table``: :func:`ecco_lib.training_ablation.mode_table`."""
    modes = [m for m in ("greedy", "best-of-n", "with-ga") if m in set(table["mode"])]
    fig = Figure(figsize=(4.2 * len(modes), 0.4 * table["strategist"].nunique() + 1.8))
    axes = fig.subplots(1, len(modes), sharex=True, squeeze=False)[0]
    for ax, mode in zip(axes, modes):
        data = table[table["mode"] == mode].reset_index(drop=True)
        low = 100 * (data["mean_i_o3"] - data["ci_low"]).clip(lower=0).fillna(0)
        high = 100 * (data["ci_high"] - data["mean_i_o3"]).clip(lower=0).fillna(0)
        ax.errorbar(100 * data["mean_i_o3"], range(len(data)), xerr=[low, high], fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=1, ls="--")
        ax.set_yticks(list(range(len(data))), data["strategist"])
        ax.set_title(mode)
        ax.set_xlabel("mean I_O3 (%), 95 % interval")
    return _save(fig, path)


def plot_faithfulness(rates: pd.DataFrame, path: str | os.PathLike) -> Path:
    """RQ4: per source, the share of checkable claims the evidence supports (95 % interval over
    answers) beside the same claims at random places (chance). ``rates``:
    :func:`ecco_lib.faithfulness.review.rates_table`."""
    data = rates.reset_index(drop=True)
    fig = Figure(figsize=(7, 0.45 * len(data) + 1.6))
    ax = fig.subplots()
    y = list(range(len(data)))
    low = 100 * (data["supported_share"] - data["ci_low"]).clip(lower=0).fillna(0)
    high = 100 * (data["ci_high"] - data["supported_share"]).clip(lower=0).fillna(0)
    ax.errorbar(100 * data["supported_share"], y, xerr=[low, high], fmt="o", capsize=3, label="claims as written")
    ax.scatter(100 * data["chance_share"], y, marker="x", color="grey", label="same claims, random passes")
    ax.set_yticks(y, [f"{s} ({int(c)} claims)" for s, c in zip(data["source"], data["claims"])])
    ax.set_xlim(0, 100)
    ax.set_xlabel("claims the measured evidence supports (% of checkable)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("is the reasoning faithful to the compiler?")
    return _save(fig, path)


def plot_runtime(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """RQ5: measured speed-up over -O3 (log scale, 95 % interval) against I_O3 (%), one point per
    (method, program); the -O3 noise control is drawn at x = 0. ``table``:
    :func:`ecco_lib.runtime.time_methods`'s speed-ups."""
    data = table[table["label"] != "-O3"].assign(i_o3_pct=lambda d: 100 * d["i_o3"].fillna(0.0))
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.subplots()
    sns.scatterplot(data=data, x="i_o3_pct", y="speedup", hue="label", style="suite", s=45, ax=ax)
    ax.errorbar(data["i_o3_pct"], data["speedup"], yerr=[(data["speedup"] - data["ci_low"]).clip(lower=0),
                                                          (data["ci_high"] - data["speedup"]).clip(lower=0)],
                fmt="none", ecolor="grey", alpha=0.4, lw=0.8)
    ax.axhline(1, color="grey", lw=1, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("I_O3 of the best sequence (%, llvm-mca cycles)")
    ax.set_ylabel("measured speed-up over -O3 (CPU time)")
    ax.legend(fontsize=6, ncol=2, loc="best")
    ax.set_title("cycle gains against measured speed")
    return _save(fig, path)
