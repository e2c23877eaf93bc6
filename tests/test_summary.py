"""The README's headline numbers are the ones in results/summary.json, and those are the ones in
the committed result tables."""

from __future__ import annotations

import copy

from ecco_lib.summary import claims_table, collect, load_summary

from conftest import REPO


def test_readme_claims_table_is_rendered_from_summary_json():
    readme = (REPO / "README.md").read_text()
    assert claims_table(load_summary(REPO)) in readme, \
        "the README's claims table differs from results/summary.json: paste notebook 09's table into the README"


def test_a_changed_number_in_summary_json_no_longer_matches_the_readme():
    readme = (REPO / "README.md").read_text()
    changed = copy.deepcopy(load_summary(REPO))
    changed["rq1"]["vs_ga"]["difference_pp"] += 0.01
    assert claims_table(changed) not in readme
    changed = copy.deepcopy(load_summary(REPO))
    changed["rq3"]["intent_alignment"]["gap"] += 0.001
    assert claims_table(changed) not in readme


def test_summary_json_agrees_with_the_committed_result_tables():
    assert collect(REPO) == load_summary(REPO), "results/summary.json is stale: rerun notebook 09"
