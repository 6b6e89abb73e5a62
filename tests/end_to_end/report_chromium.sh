#!/usr/bin/env bash
# Opens a report.html in headless Chromium and checks what a reader would see:
#   - a screenshot (1280 x 2000) that is not blank: enough non-background pixels and colours;
#   - no console message at all (errors, uncaught exceptions, warnings from the page's own scripts);
#   - every <img> decodes (naturalWidth > 0), and the page has text and at least one plot (<svg> or <img>).
# usage: report_chromium.sh REPORT.html [SCREENSHOT.png]
# Exit 0 pass, 1 fail, 77 skip (no chromium, or no python3 with numpy; or REPORT.html missing while
# SPINESCOPE_SKIP_MISSING_REPORT=1, as under ctest where the study test makes it).
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 REPORT.html [SCREENSHOT.png]" >&2
  exit 2
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
if [ ! -x "$chromium" ]; then
  echo "SKIP: $chromium is missing (Debian package chromium; tools/deps.sh --test installs it)" >&2
  exit 77
fi
if [ -z "$python" ] || ! "$python" -c "import numpy" 2>/dev/null; then
  echo "SKIP: python3 with numpy is missing" >&2
  exit 77
fi
if [ ! -f "$1" ]; then
  # Under ctest the report comes from the study test; when that was skipped there is nothing to check.
  [ "${SPINESCOPE_SKIP_MISSING_REPORT:-0}" = 1 ] && { echo "SKIP: $1 does not exist (the study test did not run)" >&2; exit 77; }
  echo "FAIL: $1 does not exist" >&2
  exit 1
fi
report=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shot=${2:-$tmp/report.png}

# Chromium's command line; $1 = a fresh profile folder. A headless Chromium should not outlive 120 s.
browse() {
  local profile=$1
  shift
  timeout -k 10 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$profile" "$@"
}

fail=0
# 1. Screenshot, with the page's console on stderr (each message is an INFO:CONSOLE line, whatever its level).
mkdir -p "$tmp/p1"
browse "$tmp/p1" --enable-logging=stderr --v=0 --hide-scrollbars --window-size=1280,2000 \
  --screenshot="$shot" "file://$report" >"$tmp/shot.out" 2>"$tmp/shot.err"
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$shot" ]; then
  echo "FAIL: chromium --screenshot exited with $rc and wrote no screenshot" >&2
  tail -n 20 "$tmp/shot.err" >&2
  exit 1
fi
if grep -E ':CONSOLE(:[0-9]+)?\]' "$tmp/shot.err" >"$tmp/console.txt"; then
  echo "FAIL: the page logged to the console:" >&2
  sed 's/^/  /' "$tmp/console.txt" >&2
  fail=1
fi

# 2. The screenshot is not blank. With Pillow (Debian python3-pil): the share of pixels that differ from the
# background colour and the number of colours. Without it, from the PNG's own data (zlib + numpy): the share of
# filtered bytes that are not zero; a uniform page filters to (almost) all zeros whatever filters the encoder chose.
"$python" - "$shot" <<'EOF' || fail=1
import struct, sys, zlib
import numpy as np

path = sys.argv[1]
problems = []
try:
    from PIL import Image
except ImportError:
    Image = None
if Image is not None:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint32)
    packed = (rgb[:, :, 0] << 16 | rgb[:, :, 1] << 8 | rgb[:, :, 2]).ravel()
    values, counts = np.unique(packed, return_counts=True)
    inked = 1.0 - counts.max() / packed.size
    print("screenshot %dx%d: %.1f %% of pixels differ from the background #%06x, %d colours"
          % (rgb.shape[1], rgb.shape[0], 100 * inked, values[np.argmax(counts)], len(values)))
    if inked < 0.02:
        problems.append("the screenshot is (almost) blank: %.2f %% non-background pixels" % (100 * inked))
    if len(values) < 16:
        problems.append("the screenshot has only %d colours (no plots or images rendered?)" % len(values))
else:
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("FAIL: the screenshot is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[pos + 8:pos + 8 + length])
        elif kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    width, height, depth, colour = header[:4]
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour] * depth // 8
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * channels)[:, 1:]
    busy = np.count_nonzero(rows[:, channels:]) / rows[:, channels:].size  # skip each row's first pixel
    print("screenshot %dx%d: %.1f %% of filtered PNG bytes are not zero (Pillow absent: no pixel statistics)"
          % (width, height, 100 * busy))
    if busy < 0.003:
        problems.append("the screenshot is (almost) blank: %.2f %% non-zero filtered bytes" % (100 * busy))
for p in problems:
    print("FAIL: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

# 3. Images decode and the page has content: a wrapper page inspects the report in an iframe (same origin for
# file:// with --allow-file-access-from-files) and writes its findings into its own DOM, which --dump-dom prints.
cat >"$tmp/inspect.html" <<EOF
<!DOCTYPE html><html><body><pre id="result">not loaded</pre>
<iframe id="report" src="file://$report" width="1280" height="2000"></iframe>
<script>
document.getElementById("report").addEventListener("load", function () {
  var r = [];
  try {
    var doc = this.contentDocument, broken = 0;
    for (var i = 0; i < doc.images.length; ++i)
      if (!doc.images[i].complete || doc.images[i].naturalWidth === 0) ++broken;
    r.push("images=" + doc.images.length, "broken=" + broken, "svg=" + doc.querySelectorAll("svg").length,
           "tables=" + doc.querySelectorAll("table").length, "text=" + doc.body.innerText.length);
  } catch (e) {
    r.push("error=" + String(e).replace(/\s+/g, "_"));
  }
  document.getElementById("result").textContent = "inspected " + r.join(" ");
});
</script></body></html>
EOF
mkdir -p "$tmp/p2"
browse "$tmp/p2" --allow-file-access-from-files --virtual-time-budget=20000 --dump-dom "file://$tmp/inspect.html" \
  >"$tmp/dom.html" 2>"$tmp/dom.err"
line=$(grep -o 'inspected [^<]*' "$tmp/dom.html" | head -n 1)
if [ -z "$line" ]; then
  echo "FAIL: the report did not finish loading in Chromium (no inspection result)" >&2
  fail=1
else
  echo "dom: ${line#inspected }"
  awk -v s="$line" 'BEGIN {
    n = split(s, kv, " ");
    for (i = 2; i <= n; ++i) { split(kv[i], p, "="); v[p[1]] = p[2] }
    bad = 0;
    if ("error" in v) { print "FAIL: could not inspect the report: " v["error"] > "/dev/stderr"; exit 1 }
    if (v["broken"] > 0) { print "FAIL: " v["broken"] " of " v["images"] " images do not decode" > "/dev/stderr"; bad = 1 }
    if (v["svg"] + v["images"] == 0) { print "FAIL: no plot (svg or img) in the report" > "/dev/stderr"; bad = 1 }
    if (v["text"] < 200) { print "FAIL: the report has only " v["text"] " characters of text" > "/dev/stderr"; bad = 1 }
    exit bad
  }' || fail=1
fi

[ $fail -eq 0 ] && echo "PASS: $report renders in Chromium" || echo "FAIL: $report"
exit $fail
