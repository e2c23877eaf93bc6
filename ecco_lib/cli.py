"""The ``ecco`` command line (also ``python -m ecco_lib``).

Exit codes: 0 success; 2 bad input (one line on stderr naming the problem); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Sequence

from ecco_lib.cliargs import join_dash_values, positive_int
from ecco_lib.errors import EccoError
from ecco_lib.reproduce import NotebookFailed


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's usage dump -> one line, exit 2
        raise EccoError(message)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="default", help="smoke, default, full or a YAML path (default: default)")
    p.add_argument("--jobs", type=positive_int, default=None, help="worker processes (default: profile, else all cores)")
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=None,
                   help="build and run optimized programs against the -O0 build (default: profile)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the evaluation cache")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ecco", description="ECCO artifact: LLVM 19 phase ordering under the llvm-mca metric.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("evaluate", help="cycles of programs under a pass sequence or an -O level")
    p.add_argument("programs", nargs="+", metavar="PROGRAM", help="file, directory, ecco:// or benchmark:// URI")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--passes", help="comma/space separated pass names (new or legacy -flag names); '' = none")
    group.add_argument("--level", help="O0, O1, O2, O3, Os or Oz (default: O3)")
    p.add_argument("--json", action="store_true", help="one JSON object per program")
    _add_common(p)

    p = sub.add_parser("baselines", help="every -O level for each program (table or CSV)")
    p.add_argument("programs", nargs="+", metavar="PROGRAM")
    p.add_argument("--levels", default=None, help="comma separated (default: the profile's o_levels)")
    p.add_argument("--csv", help="write all rows to this CSV file")
    p.add_argument("--json", action="store_true", help="one JSON object per row")
    _add_common(p)

    p = sub.add_parser("optimize", help="search a pass sequence for each program at a counted budget")
    p.add_argument("programs", nargs="+", metavar="PROGRAM")
    p.add_argument("--method", default="ga", help="search method (see `ecco methods`; default: ga)")
    p.add_argument("--budget", type=int, default=None,
                   help="distinct evaluations per program, failed and cached ones included (default: profile)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the profile's seed)")
    p.add_argument("--json", action="store_true", help="one JSON object per program")
    p.add_argument("--emit-ir", metavar="FILE", help="write the best optimized IR (.ll text, else bitcode); one program")
    p.add_argument("--model", help="ecco methods: the strategist's base model (alias, directory or cached id)")
    p.add_argument("--adapter", help="ecco methods: the strategist's LoRA adapter directory")
    _add_common(p)

    p = sub.add_parser("methods", help="list the search methods, their sources and settings")
    p.add_argument("--json", action="store_true")
    p.add_argument("--profile", default="default")

    p = sub.add_parser("suites", help="list the embedded suites and their programs")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("passes", help="list the pass registry (the action space)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("datasets", help="CompilerGym datasets: list or download")
    p.add_argument("action", choices=["list", "download"])
    p.add_argument("names", nargs="*", help="dataset names for download (e.g. cbench-v1)")

    p = sub.add_parser("cache", help="show or clear the evaluation cache")
    p.add_argument("action", choices=["info", "clear"])
    p.add_argument("--profile", default="default")

    p = sub.add_parser("reproduce", help="run the notebooks in order with papermill")
    p.add_argument("--profile", default="default")
    p.add_argument("--only", help="comma separated notebook name prefixes (e.g. 00,01)")
    p.add_argument("--force", help="comma separated prefixes of stages to redo even when their inputs are unchanged "
                                   "(e.g. 04,05: retrain the strategist)")
    return parser


def _evaluator_for(args, profile):
    overrides = {}
    if args.jobs is not None:
        overrides["jobs"] = args.jobs
    if args.check is not None:
        overrides["check"] = args.check
        overrides["check_settings"] = profile.check_settings
    if args.no_cache:
        overrides["cache"] = False
    return profile.evaluator(**overrides)


def _print_rows(rows: list[dict], as_json: bool, columns: Sequence[str]) -> None:
    """JSON lines, or a table; a table of results (with a status column) shows ``ok (unchecked)``
    and ends with the summary lines of :func:`ecco_lib.report.summary_lines`."""
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    import pandas as pd

    from ecco_lib.report import labelled, summary_lines

    results = "status" in columns
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
        print(pd.DataFrame(labelled(rows) if results else rows)[list(columns)].to_string(index=False))
    for line in summary_lines(rows, what=None) if results else []:
        print(line)


def cmd_evaluate(args) -> int:
    from ecco_lib.benchmarks import resolve_all
    from ecco_lib.config import load_profile
    from ecco_lib.llvm.pipeline import Pipeline

    profile = load_profile(args.profile)
    pipeline = Pipeline.of_passes(args.passes) if args.passes is not None else Pipeline.of_level(
        "O3" if args.level is None else args.level)
    with _evaluator_for(args, profile) as ev:
        programs = resolve_all(args.programs, cache=ev.cache)
        rows = ev.evaluate_many([(p, pipeline) for p in programs])
        ev.with_o3(rows, {p.uri: p for p in programs})
    _print_rows([r.as_dict() for r in rows], args.json,
                ["program", "pipeline", "status", "cycles", "cycles_O3", "i_o3", "ir_instructions",
                 "text_size", "seconds"])
    return 0


def cmd_baselines(args) -> int:
    from ecco_lib.atomic import check_writable
    from ecco_lib.benchmarks import resolve_all
    from ecco_lib.cliargs import level_list
    from ecco_lib.config import load_profile
    from ecco_lib.experiments import o_level_table, suite_scores, write_table
    from ecco_lib.report import summary_lines

    profile = load_profile(args.profile)
    levels = level_list(args.levels) if args.levels is not None else profile["o_levels"]
    if args.csv is not None:
        check_writable(args.csv)  # before the run, not after it
    with _evaluator_for(args, profile) as ev:
        programs = resolve_all(args.programs, cache=ev.cache)
        table = o_level_table(programs, ev, levels)
    if args.csv is not None:
        write_table(table, args.csv)
    if args.json:
        _print_rows(table.to_dict("records"), True, [])
    else:
        print((100 * suite_scores(table)).round(2).to_string(float_format=lambda v: f"{v:.2f}"))
        print("(mean I_O3 in %, ok rows only; 'average' = unweighted mean of suite means)")
        for line in summary_lines(table.to_dict("records")):
            print(line)
    return 0


def _search_section(profile) -> dict:
    section = profile.data.get("search")
    if not isinstance(section, dict) or "budget" not in section:
        raise EccoError(f"profile '{profile.name}' has no search section with a budget")
    return section


def cmd_optimize(args) -> int:
    from ecco_lib.atomic import check_writable
    from ecco_lib.benchmarks import resolve_all
    from ecco_lib.config import load_profile
    from ecco_lib.llvm.pipeline import Pipeline
    from ecco_lib.search import Objective, get_method, make_optimizer
    from ecco_lib.search.presentation import describe_result, emit_ir, optimize_record

    profile = load_profile(args.profile)
    section = _search_section(profile)
    budget = args.budget if args.budget is not None else section["budget"]
    seed = args.seed if args.seed is not None else profile.seed
    methods = dict(section.get("methods") or {})
    if args.model or args.adapter:
        if get_method(args.method).section != "ecco":
            raise EccoError(f"--model/--adapter choose the strategist of the ecco methods, not of '{args.method}'")
        methods["ecco"] = {**(methods.get("ecco") or {}),
                           **{k: v for k, v in (("model", args.model), ("adapter", args.adapter)) if v}}
    optimizer, settings = make_optimizer(args.method, methods)
    if args.emit_ir:
        check_writable(args.emit_ir)
    with _evaluator_for(args, profile) as ev:
        programs = resolve_all(args.programs, cache=ev.cache)
        if args.emit_ir and len(programs) != 1:
            raise EccoError(f"--emit-ir writes one file: give one program (got {len(programs)})")
        for program in programs:
            result = optimizer.optimize(program, Objective(program, ev, budget), seed)
            best = ev.evaluate(program, Pipeline(passes=result.best)) if result.found else None
            record = optimize_record(result, best, settings)
            if args.emit_ir and best is not None:
                record["emitted_ir"] = str(emit_ir(program, result, args.emit_ir, ev.timeout_s))
            print(json.dumps(record) if args.json else describe_result(program, record), flush=True)
    return 0


def cmd_methods(args) -> int:
    from ecco_lib.config import load_profile
    from ecco_lib.search import describe_methods

    section = load_profile(args.profile).data.get("search") or {}
    rows = describe_methods(section.get("methods"))
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            settings = ", ".join(f"{k}={v}" for k, v in row["settings"].items())
            offline = "learns offline (train split); " if row["learns_offline"] else ""
            print(f"{row['method']:<13} {row['description']}\n              source: {row['source']}; "
                  f"{offline}settings: {settings}")
    return 0


def cmd_suites(args) -> int:
    from ecco_lib.benchmarks import embedded

    data = embedded.manifest()
    rows = [{"suite": s, "mirrors": info["mirrors"], "description": info["description"],
             "programs": [{"uri": embedded.SCHEME + k, "split": data["split"][k]} for k in embedded.program_names(s)]}
            for s, info in data["suites"].items()]
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        for row in rows:
            names = ", ".join(f"{p['uri'].rsplit('/', 1)[1]}{'*' if p['split'] == 'test' else ''}" for p in row["programs"])
            print(f"{row['suite']:<11} (mirrors {row['mirrors']}): {names}")
        print("* = test split; URIs: ecco://SUITE/NAME")
    return 0


def cmd_passes(args) -> int:
    from dataclasses import asdict

    from ecco_lib.llvm.passes import DROPPED, REGISTRY

    rows = [asdict(p) for p in REGISTRY]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    _print_rows(rows, False, ["index", "name", "legacy", "level", "category", "description"])
    print(f"\n{len(REGISTRY)} passes; CompilerGym passes without an LLVM 19 counterpart:")
    for name, why in DROPPED.items():
        print(f"  -{name}: {why}")
    return 0


def cmd_datasets(args) -> int:
    from ecco_lib.benchmarks import compilergym

    if args.action == "list":
        for row in compilergym.list_datasets():
            state = f"{row['benchmarks']} benchmarks at {row['path']}" if row["installed"] else "not downloaded"
            print(f"{row['uri']:<28} {state}")
        return 0
    if not args.names:
        raise EccoError("datasets download needs at least one dataset name (see `ecco datasets list`)")
    for name in args.names:
        print(compilergym.download(name))
    return 0


def cmd_cache(args) -> int:
    from ecco_lib.config import load_profile
    from ecco_lib.llvm.cache import EvaluationCache, reset

    directory = load_profile(args.profile)["execution"].get("cache_dir")
    if args.action == "clear":
        print(f"cleared {reset(directory).path}")
        return 0
    cache = EvaluationCache(directory)
    print(json.dumps({"path": str(cache.path), **cache.counts()}))
    return 0


def cmd_reproduce(args) -> int:
    from ecco_lib.reproduce import run_notebooks

    run_notebooks(args.profile, only=args.only.split(",") if args.only else None,
                  force=args.force.split(",") if args.force else None)
    return 0


COMMANDS = {"evaluate": cmd_evaluate, "baselines": cmd_baselines, "optimize": cmd_optimize, "methods": cmd_methods,
            "suites": cmd_suites, "passes": cmd_passes,
            "datasets": cmd_datasets, "cache": cmd_cache, "reproduce": cmd_reproduce}


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"ecco: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    warnings.showwarning = _one_line_warning
    try:
        args = build_parser().parse_args(join_dash_values(sys.argv[1:] if argv is None else argv))
        return COMMANDS[args.command](args)
    except EccoError as exc:
        print(f"ecco: error: {exc}", file=sys.stderr)
        return 2
    except NotebookFailed as exc:
        print(f"ecco: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ecco: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
