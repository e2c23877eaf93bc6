"""Training figures: one PNG each, written atomically."""

from __future__ import annotations

import pandas as pd

from ecco_lib.plots import STAGE_RATES, plot_stages, plot_training_curves

PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_stages_and_training_curves_write_one_png_each(tmp_path):
    summary = pd.DataFrame({"base": {r: 0.0 for r in STAGE_RATES} | {"mean_i_o3_all": 0.0},
                            "sft-full": {r: 0.8 for r in STAGE_RATES} | {"mean_i_o3_all": -0.12},
                            "grpo-full": {r: 0.9 for r in STAGE_RATES} | {"mean_i_o3_all": 0.05}}).T
    stages = plot_stages(summary, tmp_path / "figures" / "stages.png")
    log = pd.DataFrame({"step": [1, 2, 3, 1, 2, 3], "loss": [3.0, 2.0, 1.5, 2.5, 2.0, 1.0],
                        "run": ["sft-full"] * 3 + ["sft-no-reasoning"] * 3})
    curves = plot_training_curves(log, {"loss": "SFT loss", "absent": "skipped"}, tmp_path / "figures" / "loss.png",
                                  hue="run")
    for path in (stages, curves):
        assert path.read_bytes()[:8] == PNG and path.stat().st_size > 10_000
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["loss.png", "stages.png"]


def test_plot_paired_differences_skips_the_baseline_row_and_draws_every_other(tmp_path):
    from ecco_lib.plots import plot_paired_differences

    table = pd.DataFrame({"method": ["ecco", "ga", "rio"], "mean_difference": [0.02, None, -0.01],
                          "ci_low": [0.0, None, float("nan")], "ci_high": [0.05, None, float("nan")]})
    path = plot_paired_differences(table, tmp_path / "paired.png")
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["paired.png"]
