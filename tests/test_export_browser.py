"""The exported pages in a real browser: headless Chromium opens the file from disk with networking off.

Skipped with the reason when Chromium is not installed, except under `.ci/run` (DUEL_REQUIRE_BROWSER=1),
where a missing browser fails. The DOM is read after the page's script ran (--dump-dom); screenshots
are checked for content (not blank), in the light and the dark scheme.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.export_html import chart_count
from benchmarks.scorecard import build_scorecard
from tests.browser import chromium_or_skip, dump_dom, image_stats, run_chromium, screenshot
from tests.export_support import GAPPY_SUITES, gappy_run
from tui.cli import main


@pytest.fixture
def browser() -> str:
    return chromium_or_skip()


@pytest.fixture
def local_server() -> Iterator[tuple[str, list[str]]]:
    """A live HTTP server on 127.0.0.1 that records every path requested."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/svg+xml")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(b"<svg xmlns='http://www.w3.org/2000/svg' width='9' height='9'/>")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_networking_is_really_off(browser: str, local_server: tuple[str, list[str]], tmp_path: Path) -> None:
    """A page that loads an image, a stylesheet and a fetch from a live server: with the test flags no
    request arrives; without them the same page reaches it (so the check can fail)."""
    address, seen = local_server
    page = tmp_path / "fetches.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title>"
        f"<link rel='stylesheet' href='http://{address}/style.css'></head><body>"
        f"<img src='http://{address}/img.svg'><img src='http://localhost:{address.split(':')[1]}/host.svg'>"
        f"<script>fetch('http://{address}/fetch').catch(() => {{}});</script></body></html>",
        encoding="utf-8",
    )
    done = run_chromium(page, "--dump-dom")
    assert done.returncode == 0 and "<title>t</title>" in done.stdout
    assert seen == []
    run_chromium(page, "--dump-dom", offline=False)
    assert "/img.svg" in seen  # the control: the page does reach the server when allowed


def test_html_scorecard_in_chromium(browser: str, tmp_path: Path) -> None:
    run_id = gappy_run()
    out = tmp_path / "card.html"
    assert main(["scorecard", str(run_id), "-o", str(out)]) == 0
    card = build_scorecard(str(run_id))
    dom = dump_dom(out)
    title = re.search(r"<title>(.*?)</title>", dom)
    assert title and html.unescape(title.group(1)) == f"duel scorecard — run {run_id} (complete)"
    assert re.search(r"<html[^>]*class=\"js\"", dom)  # the script ran (the filters are shown)
    for model in (m["model_ref"] for m in card.models):
        assert model in dom
    for suite in GAPPY_SUITES:
        assert f">{suite} <span" in dom  # the suite's section heading
    figures = re.findall(r"<figure data-chart=\"(\w+)\">(.*?)</figure>", dom, flags=re.S)
    assert len(figures) == chart_count(card) and all(body.count("<svg") == 1 for _, body in figures)
    assert dom.count("<svg") == chart_count(card)

    light = screenshot(out, tmp_path / "light.png", width=1280, height=1600)
    dark = screenshot(out, tmp_path / "dark.png", width=1280, height=1600, dark=True)
    light_stats, dark_stats = image_stats(light), image_stats(dark)
    assert not light_stats.blank and not dark_stats.blank, (light_stats, dark_stats)
    assert light_stats.mean > 180 and dark_stats.mean < 80  # prefers-color-scheme followed


def test_leaderboard_html_in_chromium(browser: str, tmp_path: Path) -> None:
    from benchmarks.arena.store import ArenaStore, BattleRecord

    q = [{"role": "user", "content": "Q"}]
    with ArenaStore() as store:
        for k in range(30):
            store.record_battle(
                BattleRecord(
                    model_a="alpha",
                    model_b="beta",
                    conversation_a=[*q, {"role": "assistant", "content": "x"}],
                    conversation_b=[*q, {"role": "assistant", "content": "y"}],
                    status="voted",
                    vote="a" if k % 3 else "b",
                    voter="human",
                    source="arena",
                    tstamp=1.7e9,
                )
            )
    out = tmp_path / "board.html"
    assert main(["leaderboard", "-o", str(out)]) == 0
    dom = dump_dom(out)
    assert "<title>duel arena leaderboard (human)</title>" in dom and dom.count("<svg") == 1
    assert ">alpha</text>" in dom and ">beta</text>" in dom
    assert not image_stats(screenshot(out, tmp_path / "board.png", height=900)).blank
