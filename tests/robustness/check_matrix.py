#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that docs/robustness.md and the robustness test binary agree: every table row id
(R01.., N01..) has exactly one test case whose name starts with it and names it in the table's
test column, and every test case of the binary belongs to a row.

usage: check_matrix.py docs/robustness.md path/to/test_robustness
"""
import os
import re
import subprocess
import sys


def string_literals(text: str) -> list:
    """The C++ string literals of `text` (escapes kept), adjacent literals joined; comments,
    character literals and raw strings skipped."""
    out, i, n, last_end = [], 0, len(text), -1
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith('R"(', i):
            i = text.find(')"', i + 3) + 2
        elif text[i] == "'":
            j = i + 1
            while text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        elif text[i] == '"':
            j, buf = i + 1, []
            while text[j] != '"':
                step = 2 if text[j] == "\\" else 1
                buf.append(text[j:j + step])
                j += step
            lit = "".join(buf)
            if last_end >= 0 and text[last_end:i].strip() == "" and out:
                out[-1] += lit
            else:
                out.append(lit)
            i = last_end = j + 1
        else:
            i += 1
    return out


def main() -> int:
    doc, binary = sys.argv[1], sys.argv[2]
    rows = {}
    seen = {}
    for n, line in enumerate(open(doc, encoding="utf-8"), 1):
        m = re.match(r"\|\s*([RNH]\d\d)\s*\|", line)
        if not m:
            continue
        rid = m.group(1)
        if rid in rows:
            print(f"FAIL: {doc}:{n}: row {rid} appears twice")
            return 1
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[rid] = (n, cells[-1])
        seen[rid] = (n, cells[3] if len(cells) > 3 else "")
    out = subprocess.run([binary, "--list-test-names-only"], capture_output=True, text=True,
                         check=False).stdout
    tests = {}
    for name in out.splitlines():
        name = name.strip()
        m = re.match(r"([RNH]\d\d) ", name)
        if not m:
            if name:
                print(f"FAIL: test case '{name}' does not start with a row id")
                return 1
            continue
        if m.group(1) in tests:
            print(f"FAIL: two test cases for row {m.group(1)}")
            return 1
        tests[m.group(1)] = name
    bad = 0
    # The error text of each "error:" row must be what its test checks: every `...` span of the
    # "what the user sees" column appears among the string literals of the test sources
    # (adjacent literals joined, escapes undone).
    src_dir = os.path.dirname(os.path.abspath(__file__))
    literals = ""
    for f in sorted(os.listdir(src_dir)):
        if f.endswith(".cpp"):
            text = open(os.path.join(src_dir, f), encoding="utf-8").read()
            for lit in string_literals(text):
                literals += lit.encode("latin-1", "backslashreplace").decode("unicode_escape") + "\n"
    for rid, (n, sees) in sorted(seen.items()):
        if not sees.startswith("error:"):
            continue
        for msg in re.findall(r"`([^`]+)`", sees):
            if msg + "\n" not in literals:
                print(f"FAIL: {doc}:{n}: the error text of row {rid} is not in its test: {msg}")
                bad += 1
    for rid, (n, test_cell) in sorted(rows.items()):
        if rid not in tests:
            print(f"FAIL: {doc}:{n}: row {rid} has no test case")
            bad += 1
        elif rid not in test_cell:
            print(f"FAIL: {doc}:{n}: the test column of row {rid} does not name {rid}")
            bad += 1
    for rid, name in sorted(tests.items()):
        if rid not in rows:
            print(f"FAIL: test case '{name}' has no row in {doc}")
            bad += 1
    if len([r for r in rows if r.startswith("R")]) < 40:
        print("FAIL: fewer than 40 bad-input rows")
        bad += 1
    if bad:
        return 1
    print(f"ok: {len(rows)} rows, each with its test case")
    return 0


if __name__ == "__main__":
    sys.exit(main())
