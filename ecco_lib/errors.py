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
