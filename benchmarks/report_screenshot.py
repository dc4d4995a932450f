"""Render report.html in a real headless browser: a full-page screenshot and a printed PDF.

Needs Debian's chromium package (``apt-get install chromium``); browsers downloaded by other
tools are not used. With no PLAN_DIR it plans the bundled sample first.

    python benchmarks/report_screenshot.py [PLAN_DIR ...] [--out DIR] [--height PX]

Writes DIR/report.html (several PLAN_DIRs: compared side by side), DIR/report.png (1280 px
wide) and DIR/report.pdf (A4, the print style sheet), and prints the paths, the PDF's page count
and how long each step took. Look at the screenshot and the PDF: charts legible, no cut-off
titles or labels, tables not split badly across pages.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consolidate.cli import main as consolidate  # noqa: E402
from consolidate.report.outputs import write_report  # noqa: E402
from consolidate.report.plandata import read_plan_dir  # noqa: E402

BROWSERS = ("chromium", "chromium-browser")
# No network, no first-run work, a throw-away profile: the page must render from the file alone.
BROWSER_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars",
)


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no chromium found: install Debian's package (apt-get install chromium)")


def render(chromium: str, page: Path, args: list[str]) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan_dirs", nargs="*", metavar="PLAN_DIR")
    parser.add_argument("--out", type=Path, help="output folder (default: a new temporary folder)")
    parser.add_argument("--height", type=int, default=9000, help="screenshot height in pixels (default: 9000)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="report-screenshot-"))
    out.mkdir(parents=True, exist_ok=True)
    chromium = browser()

    started = time.perf_counter()
    plan_dirs = [Path(d) for d in args.plan_dirs]
    if not plan_dirs:
        samples = ROOT / "data" / "samples"
        plan_dirs = [out / "sample-plan"]
        code = consolidate(["plan", str(samples / "traces.csv"), "--inventory", str(samples / "inventory.csv"), "--out", str(plan_dirs[0]), "--quiet"])
        if code:
            sys.exit(code)
    report = write_report([read_plan_dir(d) for d in plan_dirs], out / "report.html")
    drawn = time.perf_counter()

    png, pdf = out / "report.png", out / "report.pdf"
    render(chromium, report, [f"--screenshot={png}", f"--window-size=1280,{args.height}"])
    shot = time.perf_counter()
    render(chromium, report, [f"--print-to-pdf={pdf}", "--no-pdf-header-footer"])
    printed = time.perf_counter()

    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    print(f"report      {report} ({report.stat().st_size / 1e3:,.0f} kB, plan and report {drawn - started:.1f} s)")
    print(f"screenshot  {png} ({shot - drawn:.1f} s)")
    print(f"pdf         {pdf} ({pages} pages, {printed - shot:.1f} s)")


if __name__ == "__main__":
    main()
