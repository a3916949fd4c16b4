# SPDX-License-Identifier: Apache-2.0
"""The package imports without its compiled part and says how to build it."""
import subprocess
import sys


def test_import_without_compiled_part_and_clear_message():
    code = (
        "import sys\n"
        "sys.modules['groundeval._core'] = None  # as if it had not been built\n"
        "import groundeval\n"
        "assert not groundeval.has_compiled_part()\n"
        "try:\n"
        "    groundeval.box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]])\n"
        "except groundeval.CompiledPartMissing as e:\n"
        "    assert isinstance(e, ImportError)\n"
        "    assert 'pip install .' in str(e), str(e)\n"
        "    print('ok')\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_compiled_part_loads():
    import groundeval
    from groundeval._native import core
    assert groundeval.has_compiled_part()
    assert core().version == groundeval.__version__
    fams = groundeval.families()
    assert len(fams) == len(set(fams)) == 19  # the family table of grounders/families.hpp
    assert {"llava", "qwen2.5-vl", "gemini", "molmo", "glm-4v"} <= set(fams)


def test_errors_name_the_problem(tmp_path):
    import groundeval
    missing = tmp_path / "nope"
    try:
        groundeval.open_flickr30k(missing)
    except groundeval.Error as e:
        assert str(missing) in str(e)
        assert isinstance(e, ValueError)
    else:
        raise AssertionError("loading a missing folder must fail")


def test_stub_lists_the_compiled_module():
    """Editors complete groundeval._core from _core.pyi: it must name everything the module has."""
    import os
    import re

    import groundeval
    from groundeval._native import core
    stub = open(os.path.join(os.path.dirname(groundeval.__file__), "_core.pyi"),
                encoding="utf-8").read()
    names = set(re.findall(r"^(?:def|class) (\w+)|^(\w+):", stub, re.M))
    names = {a or b for a, b in names}
    public = {n for n in dir(core()) if not n.startswith("_")}
    assert public <= names, public - names
