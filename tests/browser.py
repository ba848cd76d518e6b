"""Headless Chromium for the export tests and the README screenshots, with networking off.

`find_chromium()` is the browser on PATH (Debian's `chromium` package; `.ci/run` installs it) or None.
Every run gets a fresh profile and flags that keep it off the network: host names resolve to
nothing, every request (loopback included: `<-loopback>`) goes to a proxy on a closed port, and
the background services (updates, sync, QUIC) are off. `test_export_browser.py` checks that this
really blocks a request to a live local server. As root (CI), Chromium needs `--no-sandbox`.

Also here: `external_references(page)`, a static check that a page names nothing outside itself,
and `image_stats(png)`, which tells a screenshot with content from a blank one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "DUEL_REQUIRE_BROWSER"  # set by .ci/run: a missing browser fails there instead of skipping
NAMES = ("chromium", "chromium-browser")
OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)
TIMEOUT_S = 120


def find_chromium() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def chromium_or_skip() -> str:
    """The browser, or skip the test with the reason (fail instead where DUEL_REQUIRE_BROWSER is set)."""
    path = find_chromium()
    if path is None:
        reason = "headless Chromium not found (apt-get install chromium); .ci/run installs it"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but {reason}")
        pytest.skip(reason)
    return path


def run_chromium(
    page: Path | str,
    *extra: str,
    offline: bool = True,
    dark: bool = False,
    budget_ms: int = 3000,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Chromium on `page` (a file or a URL) with a fresh profile; stdout is what --dump-dom printed."""
    browser = find_chromium()
    if browser is None:
        raise RuntimeError("chromium is not installed")
    url = page if isinstance(page, str) else page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="duel-chromium-") as profile:
        flags = [*QUIET_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}"]
        if offline:
            flags += OFFLINE_FLAGS
        if dark:
            flags.append("--force-dark-mode")  # prefers-color-scheme: dark
        return subprocess.run(
            [browser, *flags, *extra, url],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            cwd=cwd,
            check=False,
        )


def dump_dom(page: Path, **options: object) -> str:
    """The DOM after the page's scripts ran (Chromium's --dump-dom)."""
    done = run_chromium(page, "--dump-dom", **options)  # type: ignore[arg-type]
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"chromium --dump-dom failed ({done.returncode}): {done.stderr[-800:]}")
    return done.stdout


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 2200, **options: object) -> Path:
    """A PNG of the top `height` pixels of the page at `width` (Chromium's --screenshot)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    done = run_chromium(page, f"--screenshot={out.resolve()}", f"--window-size={width},{height}", **options)  # type: ignore[arg-type]
    if not out.exists():
        raise RuntimeError(f"chromium --screenshot wrote nothing ({done.returncode}): {done.stderr[-800:]}")
    return out


@dataclass(frozen=True)
class ImageStats:
    width: int
    height: int
    colours: int  # distinct colours
    stddev: float  # of the grey levels
    mean: float  # grey level, 0 black .. 255 white

    @property
    def blank(self) -> bool:
        return self.colours <= 4 or self.stddev < 2.0


def image_stats(png: Path) -> ImageStats:
    from PIL import Image, ImageStat

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 24) or []
        grey = ImageStat.Stat(rgb.convert("L"))
        return ImageStats(rgb.width, rgb.height, len(colours), grey.stddev[0], grey.mean[0])


_REFERENCE = re.compile(
    r"""(?:\bsrc|\bhref|\baction|\bdata)\s*=\s*["']([^"']*)["']|url\(\s*['"]?([^)'"]*)""", re.I
)


def external_references(page: str) -> list[str]:
    """Every src/href/url() in the page that points outside it (fragment links '#...' are inside)."""
    found = [a or b for a, b in _REFERENCE.findall(page)]
    refs = [ref for ref in found if ref and not ref.startswith("#")]
    if "@import" in page:
        refs.append("@import")
    return refs
