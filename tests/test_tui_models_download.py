"""Pilot tests of the hub download flow (Models screen `d`) and the hf: question in the model picker.

Real HTTP against tests/hub_server.py on 127.0.0.1 (no mock objects). For the cancel test the
server is paced (it writes file bodies in small slices with a pause), so a cancel lands mid-file.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from gguf_builders import write_gguf
from hub_server import FakeRepo, HubServer, point_huggingface_hub_at
from textual.widgets import Input, ProgressBar
from tui_bench_support import WIDE, sections_app, wait_for
from tui_support import make_app, wait_ready, wait_until

from models import hub, registry
from tui.screens.confirm import ConfirmScreen
from tui.screens.model_picker import ModelPickerScreen
from tui.screens.models_download import ModelsDownloadScreen
from tui.screens.models_screen import ModelsScreen
from tui.widgets.models_table import ModelsTable

REPO = "acme/Tiny-Chat-GGUF"
SMALL = "tiny-chat-Q4_K_M.gguf"
BIG = "tiny-chat-Q8_0.gguf"


def gguf_bytes(tmp: Path, rows: int) -> bytes:
    """A real (registrable) GGUF file of about rows * 1 kB."""
    tensors = {
        "token_embd.weight": np.arange(rows * 256, dtype=np.float32).reshape(rows, 256),
        "output_norm.weight": np.ones(256, dtype=np.float32),
    }
    return write_gguf(tmp / f"m{rows}.gguf", tensors=tensors).read_bytes()


class _PacedWriter:
    """Writes big payloads in slices with a pause, like a slow link (headers pass at once)."""

    def __init__(self, raw, slice_bytes: int = 32 * 1024, pause_s: float = 0.02) -> None:  # noqa: ANN001
        self._raw = raw
        self._slice = slice_bytes
        self._pause = pause_s

    def write(self, data: bytes) -> int:
        if len(data) <= self._slice:
            return self._raw.write(data)
        for start in range(0, len(data), self._slice):
            self._raw.write(data[start : start + self._slice])
            self._raw.flush()
            time.sleep(self._pause)
        return len(data)

    def __getattr__(self, name: str):  # noqa: ANN204 - flush, close, ... of the socket writer
        return getattr(self._raw, name)


def pace(server: HubServer) -> None:
    base = server._server.RequestHandlerClass  # noqa: SLF001 - the test server's own handler

    class Paced(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            self.wfile = _PacedWriter(self.wfile)

    server._server.RequestHandlerClass = Paced  # noqa: SLF001


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from huggingface_hub import constants

    # Small read chunks so progress (and a cancel) happen many times within one file.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    srv = HubServer().start()
    point_huggingface_hub_at(srv.url, tmp_path / "hf-home", monkeypatch)
    srv.add(FakeRepo(REPO, {SMALL: gguf_bytes(tmp_path, 64), BIG: gguf_bytes(tmp_path, 2048)}))
    yield srv
    srv.stop()


async def open_download(pilot) -> tuple[ModelsScreen, ModelsDownloadScreen]:  # noqa: ANN001
    await pilot.press("f5")
    models = pilot.app.screen
    assert isinstance(models, ModelsScreen)
    await wait_for(pilot, lambda: models.models is not None, "the model list")
    await pilot.press("d")
    dialog = pilot.app.screen
    assert isinstance(dialog, ModelsDownloadScreen)
    return models, dialog


async def start(pilot, dialog: ModelsDownloadScreen, ref: str, quant: str = "") -> None:  # noqa: ANN001
    dialog.query_one("#download-ref", Input).value = ref
    dialog.query_one("#download-quant", Input).value = quant
    dialog.query_one("#download-ref", Input).focus()
    await pilot.pause()
    await pilot.press("enter")


async def test_download_shows_progress_registers_and_selects_the_model(server: HubServer) -> None:
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        models, dialog = await open_download(pilot)
        seen: list[float] = []
        bar = dialog.query_one("#download-progress", ProgressBar)
        dialog.watch(bar, "progress", lambda value: seen.append(value), init=False)
        await start(pilot, dialog, REPO, "q4_k_m")
        await wait_for(pilot, lambda: app.screen is models, "the dialog to close")

        name = hub.default_registry_name(hub.parse_reference(f"hf:{REPO}/{SMALL}"))
        entry = registry.get(name)
        assert entry is not None
        assert Path(entry.path).read_bytes() == server.repos[REPO].files[SMALL]
        assert seen and seen[-1] == len(server.repos[REPO].files[SMALL]), "the bar reached the file size"
        table = models.query_one(ModelsTable)
        await wait_for(pilot, lambda: table.selected_name == name, "the new model to be selected")
        assert name in [str(k.value) for k in table.rows]


async def test_missing_file_and_repo_show_one_line_errors(server: HubServer) -> None:
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        _, dialog = await open_download(pilot)
        await start(pilot, dialog, f"hf:{REPO}/tiny-chat-Q2_K.gguf")
        await wait_for(pilot, lambda: bool(dialog.last_error), "the error line")
        assert "has no file 'tiny-chat-Q2_K.gguf'" in dialog.last_error
        assert "\n" not in dialog.last_error
        assert not dialog.downloading and app.screen is dialog

        await start(pilot, dialog, "hf:nobody/Nothing-GGUF/x-Q4_K_M.gguf")
        await wait_for(pilot, lambda: "no such repo" in dialog.last_error, "the repo error")
        assert registry.registered() == {}

        await pilot.press("escape")  # nothing downloading: Escape closes
        assert isinstance(app.screen, ModelsScreen)


async def test_cancel_keeps_the_part_file_and_the_next_download_resumes(
    server: HubServer, duel_home: Path
) -> None:
    pace(server)
    total = len(server.repos[REPO].files[BIG])
    target = hub.local_path(REPO, BIG)
    part = target.with_name(target.name + ".part")
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        models, dialog = await open_download(pilot)
        bar = dialog.query_one("#download-progress", ProgressBar)
        await start(pilot, dialog, f"hf:{REPO}/{BIG}")
        await wait_for(pilot, lambda: 0 < (bar.progress or 0) < total, "some progress")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not dialog.downloading, "the cancel")
        assert "cancelled" in dialog.status_text and "resume" in dialog.status_text
        assert app.screen is dialog, "cancelling does not close the dialog"
        assert not target.exists()
        kept = part.stat().st_size
        assert 0 < kept < total

        await start(pilot, dialog, f"hf:{REPO}/{BIG}")
        await wait_for(pilot, lambda: app.screen is models, "the resumed download", timeout=30)
        assert target.read_bytes() == server.repos[REPO].files[BIG]
        assert not part.exists()
        ranges = [r.range for r in server.file_requests(BIG)]
        assert ranges == [None, f"bytes={kept}-"], "the second download continued the part file"


async def test_hf_reference_in_the_picker_asks_before_downloading(server: HubServer) -> None:
    ref = f"hf:{REPO}/{SMALL}"
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        right = app.chat.pane("right")
        before = right.ref
        right.transcript.focus()
        await pilot.pause()
        await pilot.press("ctrl+l")
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen) and picker.pane == "right"
        picker.query_one("#search", Input).value = ref
        await pilot.pause()
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert ref in str(app.screen.question)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is picker, "no: back in the picker, nothing loads"
        assert right.ref == before
        assert not server.file_requests(SMALL), "no: nothing was downloaded"
        assert hub.find_local(hub.parse_reference(ref)) is None

        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: right.ref == ref, what="the pane to load the hf: reference")

        # Once the file is on disk, picking it loads without a question.
        hub.pull(ref)
        await pilot.press("ctrl+l")
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        picker.query_one("#search", Input).value = ref
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, (ConfirmScreen, ModelPickerScreen))
