"""Export the README's real scorecard and photograph its HTML page with headless Chromium.

Run from the repository root, with DUEL_HOME (or the user's data dir) holding the run, after
`duel bench all --limit 20 --seed 0` on the bundled pair:

    python docs/screenshots/make_scorecard_shots.py [RUN_ID|last]
    python docs/screenshots/make_scorecard_shots.py --from-json docs/scorecard/scorecard.json

(the second puts the run of a JSON export back into a temporary store first: rebuild_run.py).

Writes docs/scorecard/scorecard.{md,html,json,svg} (exactly what `duel scorecard RUN --format FMT`
writes) and docs/screenshots/scorecard_html.png and scorecard_html_dark.png: the top of the HTML
page as Chromium draws it from the file on disk, networking off, in the light and the dark scheme.
Nothing is edited by hand; the README's Markdown section is docs/scorecard/scorecard.md below its
title line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.export import export_scorecard  # noqa: E402
from benchmarks.scorecard import Scorecard, build_scorecard  # noqa: E402
from tests.browser import find_chromium, image_stats, screenshot  # noqa: E402

CARD_DIR = ROOT / "docs" / "scorecard"
SHOTS = ROOT / "docs" / "screenshots"
WIDTH, HEIGHT = 1280, 1900  # the summary chart and the first suite's section


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Export the README's scorecard and photograph its HTML.")
    parser.add_argument("run", nargs="?", default="last", help="run id or last (default)")
    parser.add_argument("--from-json", type=Path, metavar="FILE", help="rebuild the run of this JSON export")
    args = parser.parse_args(argv)
    if args.from_json is None:
        return shoot(build_scorecard(args.run))
    from rebuild_run import rebuild

    from benchmarks.store import ResultsStore

    export = args.from_json.resolve()
    with tempfile.TemporaryDirectory(prefix="duel-rebuilt-") as home:
        os.environ["DUEL_HOME"] = home
        with ResultsStore() as store:
            run_id = rebuild(export, store)
            card = build_scorecard(str(run_id), store=store)
    print(f"rebuilt run {card.run['id']} of {export.name} in a temporary store")
    return shoot(card)


def shoot(card: Scorecard) -> int:
    for fmt in ("md", "html", "json", "svg"):
        path = export_scorecard(card, fmt, CARD_DIR / f"scorecard.{fmt}")
        print(f"wrote {path.relative_to(ROOT)}")
    if find_chromium() is None:
        print("chromium not found (apt-get install chromium): no screenshots taken", file=sys.stderr)
        return 1
    from PIL import Image

    page = CARD_DIR / "scorecard.html"
    for name, dark in (("scorecard_html.png", False), ("scorecard_html_dark.png", True)):
        out = screenshot(page, SHOTS / name, width=WIDTH, height=HEIGHT, dark=dark)
        stats = image_stats(out)
        if stats.blank:
            print(f"{out}: the screenshot is blank ({stats})", file=sys.stderr)
            return 1
        with Image.open(out) as image:  # a palette of 256 colours: a third of the size, same look
            image.convert("RGB").quantize(256).save(out, optimize=True)
        print(f"wrote {out.relative_to(ROOT)} ({stats.colours} colours, {out.stat().st_size // 1024} KiB)")
    print(f"run {card.run['id']} ({card.run['status']}), created {card.run['created_at']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
