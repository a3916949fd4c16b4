# SPDX-License-Identifier: Apache-2.0
"""The package's exception types (pure Python, importable without the compiled part)."""


class Error(ValueError):
    """Bad input or options reported by groundeval's C++ core.

    The message names where the problem is ("FILE:LINE: what" when a line is known);
    ``args[1]``, when present, is the kind: io, parse, invalid, config, backend or unsupported.
    """


class CompiledPartMissing(ImportError):
    """The compiled part (``groundeval._core``) is not built or cannot be loaded."""
