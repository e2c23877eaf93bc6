"""The README's measured numbers are the committed results: every ``<!-- results:NAME -->`` block
is rendered from the tables under results/ (``python -m ecco_lib.readme``), the claims table from
results/summary.json, and summary.json from those tables."""

from __future__ import annotations

import copy
import re

from ecco_lib.config import load_profile
from ecco_lib.readme import BLOCKS, render, stale_blocks

from conftest import REPO

README = REPO / "README.md"


def test_every_results_block_of_the_readme_matches_the_committed_results():
    text = README.read_text()
    names = re.findall(r"<!-- results:([a-z0-9-]+) -->", text)
    assert names and set(names) <= set(BLOCKS)
    assert stale_blocks(text, REPO, load_profile("default")) == [], "run `python -m ecco_lib.readme` after a run"


def test_a_changed_number_in_a_block_is_caught(tmp_path):
    text = README.read_text()
    block = re.search(r"<!-- results:rq1 -->\n(.*?)<!-- /results:rq1 -->", text, re.S).group(1)
    changed = text.replace(block, block.replace("56.0", "56.1", 1))
    assert changed != text and stale_blocks(changed, REPO, load_profile("default")) == ["rq1"]
    assert render(changed, REPO, load_profile("default")) == text


def test_the_claims_table_is_rendered_from_summary_json_and_a_changed_number_fails():
    from ecco_lib.summary import claims_table, load_summary

    text = README.read_text()
    summary = load_summary(REPO)
    assert claims_table(summary) in text
    changed = copy.deepcopy(summary)
    changed["rq1"]["vs_ga"]["difference_pp"] += 0.01
    assert claims_table(changed) not in text
    changed = copy.deepcopy(summary)
    changed["rq3"]["vs_llm_alone"]["ci_low_pp"] -= 0.01
    assert claims_table(changed) not in text


def test_summary_json_agrees_with_the_committed_result_tables():
    from ecco_lib.summary import collect, load_summary

    assert collect(REPO) == load_summary(REPO), "results/summary.json is stale: rerun notebook 11"


def test_the_timing_block_sums_the_recorded_notebook_times(tmp_path):
    from ecco_lib.readme import timing
    from ecco_lib.reproduce import record_time

    times = tmp_path / "results" / "reproduce_times.csv"
    times.parent.mkdir()
    record_time(times, "default", "04_sft", "empty", 3725.2)
    record_time(times, "default", "00_environment_check", "empty", 3)
    record_time(times, "default", "04_sft", "warm", 21)
    record_time(times, "smoke", "04_sft", "empty", 99)  # another profile: not in the default table
    text = timing(tmp_path, None)
    assert "| `00_environment_check` | 3 s | – |" in text and "| `04_sft` | 1 h 2 min 5 s | 21 s |" in text
    assert text.index("00_environment") < text.index("04_sft") and "**1 h 2 min 8 s** | **21 s**" in text
