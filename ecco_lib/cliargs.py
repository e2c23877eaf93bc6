"""Command-line argument helpers shared by every ``ecco`` subcommand (argparse types and argv
normalisation), so each command validates its options the same way."""

from __future__ import annotations

import argparse
import re
from typing import Sequence

#: Options whose value may itself start with '-' (legacy pass names ``-mem2reg``, levels ``-O3``).
DASH_VALUE_OPTIONS = ("--passes", "--level", "--levels")
_DASH_VALUE = re.compile(r"-[A-Za-z]")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (``--jobs``); anything else is one clear error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def join_dash_values(argv: Sequence[str], options: Sequence[str] = DASH_VALUE_OPTIONS) -> list[str]:
    """``--passes -mem2reg,-licm`` -> ``--passes=-mem2reg,-licm``: argparse would take a value
    starting with one dash for an option. Values starting with ``--`` stay options."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in options and i + 1 < len(argv) and _DASH_VALUE.match(argv[i + 1]):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        if arg == "--":  # everything after is positional
            out.extend(argv[i:])
            break
        out.append(arg)
        i += 1
    return out


def level_list(text: str) -> list[str]:
    """``--levels O0,O3``: a non-empty comma separated list of -O levels (validated)."""
    from ecco_lib.errors import EccoError
    from ecco_lib.llvm.pipeline import Pipeline

    if not text.strip():
        raise EccoError("--levels is empty: give at least one of O0, O1, O2, O3, Os, Oz")
    return [Pipeline.of_level(name).level for name in text.split(",")]
