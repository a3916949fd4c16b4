# SPDX-License-Identifier: Apache-2.0
"""The `groundeval` command-line tool from Python.

``pip install .`` builds the C++ command-line tool and installs it inside the package
(``groundeval/bin/groundeval``) and as the ``groundeval`` command of the environment, so
``groundeval run ...``, ``groundeval report ...`` and every other subcommand of README.md work in a
virtual environment without a separate CMake build. :func:`run_cli` runs it from Python.
"""
import os
import subprocess
import sys

from ._errors import CompiledPartMissing, Error
from ._native import BUILD_HINT, cli_executable, data_dir


def _env():
    env = dict(os.environ)
    d = data_dir()
    if d and "GROUNDEVAL_DATA_DIR" not in env:
        env["GROUNDEVAL_DATA_DIR"] = d  # the split lists installed with the package
    return env


def _exe():
    exe = cli_executable()
    if exe is None:
        raise CompiledPartMissing(
            "the groundeval command-line tool is not installed with this package; " + BUILD_HINT)
    return exe


def run_cli(*args):
    """Runs ``groundeval ARGS...`` and returns its standard output; a non-zero exit raises
    :class:`groundeval.Error` with the tool's error message."""
    p = subprocess.run([_exe(), *[os.fspath(a) for a in args]], env=_env(), capture_output=True,
                       text=True, check=False)
    if p.returncode != 0:
        msg = (p.stderr or p.stdout).strip()
        raise Error(f"groundeval {' '.join(str(a) for a in args[:1])} exited with status "
                    f"{p.returncode}: {msg}")
    return p.stdout


def main(argv=None):
    """Entry point of the ``groundeval`` console script: replaces the process with the tool."""
    argv = sys.argv[1:] if argv is None else argv
    exe = _exe()
    os.execve(exe, [exe, *argv], _env())


if __name__ == "__main__":
    main()
