"""The ``ecco`` command line (also ``python -m ecco_lib``).

Exit codes: 0 success; 2 bad input (one line on stderr naming the problem); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from ecco_lib.errors import EccoError
from ecco_lib.reproduce import NotebookFailed


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's usage dump -> one line, exit 2
        raise EccoError(message)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="default", help="smoke, default, full or a YAML path (default: default)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: profile, else all cores)")
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
    return parser


def _evaluator_for(args, profile):
    overrides = {}
    if args.jobs:
        overrides["jobs"] = args.jobs
    if args.check is not None:
        overrides["check"] = args.check
        overrides["check_settings"] = profile.check
    if args.no_cache:
        overrides["cache"] = False
    return profile.evaluator(**overrides)


def _print_rows(rows: list[dict], as_json: bool, columns: Sequence[str]) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
        print(pd.DataFrame(rows)[list(columns)].to_string(index=False))


def cmd_evaluate(args) -> int:
    from ecco_lib.benchmarks import resolve_all
    from ecco_lib.config import load_profile
    from ecco_lib.llvm.pipeline import Pipeline

    profile = load_profile(args.profile)
    pipeline = Pipeline.of_passes(args.passes) if args.passes is not None else Pipeline.of_level(args.level or "O3")
    with _evaluator_for(args, profile) as ev:
        programs = resolve_all(args.programs, cache=ev.cache)
        rows = ev.evaluate_many([(p, pipeline) for p in programs])
        ev.with_o3(rows, {p.uri: p for p in programs})
    _print_rows([r.as_dict() for r in rows], args.json,
                ["program", "pipeline", "status", "cycles", "cycles_O3", "i_o3", "ir_instructions",
                 "text_size", "seconds"])
    return 0


def cmd_baselines(args) -> int:
    from ecco_lib.benchmarks import resolve_all
    from ecco_lib.config import load_profile
    from ecco_lib.experiments import o_level_table, suite_scores, write_table
    from ecco_lib.llvm.pipeline import Pipeline

    profile = load_profile(args.profile)
    levels = [Pipeline.of_level(l).level for l in args.levels.split(",")] if args.levels else profile["o_levels"]
    with _evaluator_for(args, profile) as ev:
        programs = resolve_all(args.programs, cache=ev.cache)
        table = o_level_table(programs, ev, levels)
    if args.csv:
        write_table(table, args.csv)
    if args.json:
        _print_rows(table.to_dict("records"), True, [])
    else:
        print((100 * suite_scores(table)).round(2).to_string(float_format=lambda v: f"{v:.2f}"))
        print("(mean I_O3 in %, ok rows only; 'average' = unweighted mean of suite means)")
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
    from ecco_lib.llvm.cache import EvaluationCache

    cache = EvaluationCache(load_profile(args.profile)["execution"].get("cache_dir"))
    if args.action == "clear":
        cache.clear()
        print(f"cleared {cache.path}")
    else:
        print(json.dumps({"path": str(cache.path), **cache.counts()}))
    return 0


def cmd_reproduce(args) -> int:
    from ecco_lib.reproduce import run_notebooks

    run_notebooks(args.profile, only=args.only.split(",") if args.only else None)
    return 0


COMMANDS = {"evaluate": cmd_evaluate, "baselines": cmd_baselines, "suites": cmd_suites, "passes": cmd_passes,
            "datasets": cmd_datasets, "cache": cmd_cache, "reproduce": cmd_reproduce}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
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
