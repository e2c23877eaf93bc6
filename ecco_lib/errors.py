"""Errors that mean "the user gave us something we cannot use".

The CLI turns every :class:`EccoError` into one line on stderr and exit code 2. Anything else is a
bug and keeps its traceback.
"""


class EccoError(Exception):
    """Bad input or a missing prerequisite; the message is one line that names the problem."""


class ToolchainError(EccoError):
    """LLVM 19 tools are missing or have the wrong version."""


class UnknownPassError(EccoError):
    """A pass name that is not in the registry."""


class BadProgramError(EccoError):
    """A program path, file or URI that cannot be read as a benchmark."""


class BadEvidenceError(EccoError):
    """An evidence record (or feature dict) that lacks what the prompts and teachers need, or an
    evidence file that cannot be read as one."""


def one_line(text: str, limit: int = 60) -> str:
    """``text`` with its whitespace collapsed, cut to ``limit`` characters (``...`` marks a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


class EccoWarning(UserWarning):
    """Input the tools accept but that makes results meaningless (e.g. ``optnone`` IR); the CLI
    prints each distinct warning once, as one ``ecco: warning:`` line."""
