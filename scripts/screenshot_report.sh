#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Opens a groundeval HTML report in headless Chromium, takes a screenshot and checks that it is not
# blank (decoded with python3's zlib; no extra Python packages).
#
# Usage: scripts/screenshot_report.sh [REPORT_DIR [OUT_PNG [HEIGHT [SECTION]]]]
#   REPORT_DIR  a directory holding index.html; default: a synthetic sample report written by the
#               test_report_png test (built in $BUILD_DIR, default ./build).
#   OUT_PNG     where to write the screenshot; default: REPORT_DIR/screenshot.png.
#   HEIGHT      the window height in pixels (the width is 1280); default 2000. docs/demo-report.png
#               is `scripts/screenshot_report.sh groundeval-demo/report docs/demo-report.png 2500`.
#   SECTION     the id of a section heading (runs, types, iou, sizes, paired, cases): the page is
#               shown from that heading on (a temporary copy beside index.html, removed after).
#               docs/demo-report-cases.png is `... docs/demo-report-cases.png 1150 cases`.
# Needs the Debian package chromium (scripts/setup-deps.sh installs it, via extra-packages.txt).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
report="${1:-}"
if [[ -z "$report" ]]; then
  build="${BUILD_DIR:-$root/build}"
  cmake --build "$build" --target test_report_png >/dev/null
  report="$(mktemp -d)/sample-report"
  GROUNDEVAL_SAMPLE_REPORT_DIR="$report" "$build/tests/test_report_png" "[sample]" >/dev/null
fi
[[ -f "$report/index.html" ]] || { echo "screenshot_report: no $report/index.html" >&2; exit 1; }
out="${2:-$report/screenshot.png}"
height="${3:-2000}"
[[ "$height" =~ ^[0-9]+$ ]] || { echo "screenshot_report: HEIGHT must be a number of pixels" >&2; exit 1; }
section="${4:-}"
page="index.html"
if [[ -n "$section" ]]; then
  [[ "$section" =~ ^[a-z-]+$ ]] || { echo "screenshot_report: SECTION must be a heading id" >&2; exit 1; }
  page=".screenshot-$section-$$.html"
  python3 - "$report/index.html" "$report/$page" "$section" <<'EOF' || exit 1
import sys
src, dst, section = sys.argv[1:4]
html = open(src, encoding="utf-8").read()
at = html.find('<h2 id="%s"' % section)
if at < 0:
    sys.exit("screenshot_report: no section '%s' in %s" % (section, src))
body = html.index(">", html.index("<body")) + 1
open(dst, "w", encoding="utf-8").write(html[:body] + html[at:])
EOF
fi

browser="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$browser" ]] || { echo "screenshot_report: chromium not found (apt-get install chromium)" >&2; exit 1; }

sandbox=()
[[ $(id -u) -eq 0 ]] && sandbox=(--no-sandbox)  # Chromium refuses to run as root with its sandbox
profile="$(mktemp -d)"
trap 'rm -rf "$profile"; [[ -z "$section" ]] || rm -f "$report/$page"' EXIT
start=$(date +%s.%N)
timeout 120 "$browser" --headless "${sandbox[@]}" --disable-gpu --hide-scrollbars \
  --disable-background-networking --no-first-run --user-data-dir="$profile" \
  --window-size=1280,"$height" --screenshot="$out" "file://$(cd "$report" && pwd)/$page" \
  >/dev/null 2>&1
end=$(date +%s.%N)
[[ -s "$out" ]] || { echo "screenshot_report: Chromium wrote no screenshot" >&2; exit 1; }

python3 - "$out" <<'EOF'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"{path}: not a PNG file")
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
if depth != 8 or channels is None or interlace != 0:
    sys.exit(f"{path}: unsupported PNG layout (depth {depth}, colour type {ctype})")
raw, bpp, stride = zlib.decompress(idat), channels, w * channels
prev, rows = bytearray(stride), []
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line))
    prev = line
colours, ink = set(), 0
for line in rows:
    for x in range(0, stride, channels):
        px = line[x:x + min(3, channels)]
        colours.add(px)
        ink += px != b"\xff" * len(px)
frac = ink / (w * h)
print(f"screenshot {path}: {w}x{h}, {len(colours)} colours, {100 * frac:.1f}% non-white pixels")
if len(colours) < 20 or frac < 0.02:
    sys.exit("screenshot_report: the screenshot looks blank")
EOF
awk -v a="$start" -v b="$end" 'BEGIN { printf "screenshot_report: Chromium took %.1f s\n", b - a }'
