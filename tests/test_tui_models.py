"""Pilot tests of the Models screen (F5): list with memory fit, add with path completion, bad paths,
remove (asks first, keeps the file), details, and handing a model to a chat pane."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf_builders import write_gguf
from rich.text import Text
from textual.widgets import DataTable, Input, Static, TextArea
from tui_bench_support import ALPHA, BETA, WIDE, freeze_cursors, sections_app, settle, wait_for
from tui_support import Opener

from models import memory, registry
from models.describe import describe
from models.info import format_bytes
from tui.app import DuelApp
from tui.chat_state import PaneSettings
from tui.pair import ModelPair
from tui.screens.confirm import ConfirmScreen
from tui.screens.model_details import ModelDetailsScreen
from tui.screens.models_screen import ModelsScreen, name_from_path
from tui.widgets.models_path_suggester import complete_path
from tui.widgets.models_table import ModelsTable

TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}<|assistant|>"
GiB = 1024**3


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_gguf(
        tmp_path / "files" / "Tiny-Llama-Q8_0.gguf",
        metadata={
            "{arch}.block_count": 2,
            "{arch}.embedding_length": 64,
            "{arch}.attention.head_count": 4,
            "{arch}.attention.head_count_kv": 2,
        },
        chat_template=TEMPLATE,
        context_length=2048,
    )


@pytest.fixture
def plenty_of_memory(monkeypatch: pytest.MonkeyPatch) -> int:
    free = 64 * GiB
    monkeypatch.setattr(memory, "free_memory_bytes", lambda: free)
    return free


def cell(table: DataTable, row: str, column: str) -> str:
    value = table.get_cell(row, column)
    return value.plain if isinstance(value, Text) else str(value)


async def open_models(pilot) -> ModelsScreen:  # noqa: ANN001
    await pilot.press("f5")
    screen = pilot.app.screen
    assert isinstance(screen, ModelsScreen)
    await wait_for(pilot, lambda: screen.models is not None, "the model list")
    await pilot.pause(0.05)
    return screen


async def test_lists_bundled_and_registered_models_with_memory_at_chosen_context(
    tiny: Path, plenty_of_memory: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.add(tiny, "tiny")
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_models(pilot)
        table = screen.query_one(ModelsTable)
        assert [str(k.value) for k in table.rows] == ["qwen2.5-coder-0.5b", "smollm2-135m", "tiny"]
        info = describe(tiny, name="tiny", source="registry")
        assert cell(table, "tiny", "arch") == "llama"
        assert cell(table, "tiny", "ctx") == "2048"
        assert cell(table, "tiny", "template") == "yes"
        assert cell(table, "tiny", "size") == format_bytes(tiny.stat().st_size)
        assert cell(table, "tiny", "memory") == format_bytes(memory.estimate_memory_bytes(info, 4096))
        assert cell(table, "tiny", "fits") == "yes"
        assert "not assembled yet" in cell(table, "qwen2.5-coder-0.5b", "source")
        assert format_bytes(plenty_of_memory) in str(screen.query_one("#models-free", Static).render())

        # A bigger context needs more memory: the column follows the context size box.
        ctx = screen.query_one("#models-ctx", Input)
        ctx.value = "32768"
        await pilot.pause(0.05)
        assert cell(table, "tiny", "memory") == format_bytes(memory.estimate_memory_bytes(info, 32768))
        assert memory.estimate_memory_bytes(info, 32768) > memory.estimate_memory_bytes(info, 4096)

        # With little free memory the same models no longer fit.
        monkeypatch.setattr(memory, "free_memory_bytes", lambda: 1024)
        screen.refresh_models()
        await settle(pilot)
        assert cell(table, "tiny", "fits") == "no"
        assert cell(table, "smollm2-135m", "fits") == "no"


async def test_add_with_path_completion_then_remove_asks_first_and_keeps_the_file(
    tiny: Path, plenty_of_memory: int
) -> None:
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_models(pilot)
        await pilot.press("a")
        path_box = screen.query_one("#models-path", Input)
        assert path_box.has_focus
        await pilot.press(*str(tiny.parent / "Tiny-L"))
        await wait_for(pilot, lambda: path_box._suggestion == str(tiny), "the path completion")
        await pilot.press("right")  # accept the completion
        assert path_box.value == str(tiny)
        await pilot.press("enter")
        await settle(pilot)
        name = name_from_path(tiny)
        assert name == "Tiny-Llama-Q8_0"
        assert registry.get(name) is not None and Path(registry.get(name).path) == tiny
        table = screen.query_one(ModelsTable)
        assert table.selected_name == name
        assert path_box.value == "" and screen.last_error == ""

        # Remove: a question first; "no" keeps it.
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        assert str(tiny) in str(app.screen.query_one("#confirm-detail", Static).render())
        await pilot.press("n")
        assert registry.get(name) is not None
        await pilot.press("x")
        await pilot.press("y")
        await settle(pilot)
        assert registry.get(name) is None
        assert tiny.exists()  # forgetting a model never deletes its file
        assert name not in [str(k.value) for k in table.rows]


async def test_bad_paths_and_names_show_one_line_errors(tmp_path: Path, plenty_of_memory: int) -> None:
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_models(pilot)
        error = screen.query_one("#models-error", Static)
        assert not screen.add_model(str(tmp_path / "missing.gguf"))
        assert "no such file" in screen.last_error and "\n" not in screen.last_error
        assert "no such file" in str(error.render())
        assert not screen.add_model(str(not_gguf))
        assert "not a GGUF file" in screen.last_error
        assert not screen.add_model(str(tmp_path))
        assert "directory" in screen.last_error
        assert not screen.add_model("")
        assert "path" in screen.last_error
        assert registry.registered() == {}


async def test_bundled_models_cannot_be_removed(plenty_of_memory: int) -> None:
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_models(pilot)
        table = screen.query_one(ModelsTable)
        assert table.select_name("smollm2-135m")
        await pilot.press("x")
        assert isinstance(app.screen, ModelsScreen)  # no question: there is nothing to remove
        said = [str(n.message) for n in app._notifications]
        assert "smollm2-135m is bundled, not registered: there is nothing to remove." in said
        assert "smollm2-135m" in [str(k.value) for k in table.rows]  # still listed


async def test_details_show_every_metadata_key_and_the_chat_template(
    tiny: Path, plenty_of_memory: int
) -> None:
    registry.add(tiny, "tiny")
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_models(pilot)
        screen.query_one(ModelsTable).select_name("tiny")
        await pilot.press("i")
        details = app.screen
        assert isinstance(details, ModelDetailsScreen)
        info = describe(tiny, name="tiny")
        metadata = details.query_one("#details-metadata-table", DataTable)
        assert metadata.row_count == len(info.metadata)
        assert cell(metadata, "general.architecture", "value") == "llama"
        assert details.query_one("#details-template-text", TextArea).text == TEMPLATE
        needed = format_bytes(memory.estimate_memory_bytes(info, 4096))
        assert details.overview["estimated memory"].startswith(f"{needed} at 4096 tokens")
        assert details.overview["fits in free memory"].startswith("yes")
        assert details.overview["path"] == str(tiny)
        await pilot.press("escape")
        assert isinstance(app.screen, ModelsScreen)


async def test_use_as_left_or_right_model_loads_it_in_that_chat_pane(
    tiny: Path, plenty_of_memory: int
) -> None:
    registry.add(tiny, "tiny")
    opener = Opener()
    pairs: list[tuple[str, str]] = []
    app = sections_app(open_engine=opener, remember_pair=lambda a, b: pairs.append((a, b)))
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_models(pilot)
        screen.query_one(ModelsTable).select_name("tiny")
        await pilot.press("r")
        await wait_for(pilot, lambda: app.chat.pane("right").ref == "tiny", "the right pane to load tiny")
        await wait_for(pilot, lambda: ("scripted:alpha", "tiny") in pairs, "the pair to be remembered")
        assert app.chat.pane("left").ref == "scripted:alpha"
        assert [ref for ref, _, _ in opener.opened].count("tiny") == 1
        await pilot.press("escape")  # back to the chat
        assert app.screen is app.chat


async def test_memory_is_estimated_at_the_chat_context_size(tiny: Path, plenty_of_memory: int) -> None:
    # The screen asks the app's pair for the chat's settings (no chat screen needed for that).
    registry.add(tiny, "tiny")
    pair = ModelPair(ALPHA, BETA, settings=(PaneSettings(n_ctx=8192), PaneSettings()), open_engine=Opener())
    app = DuelApp(pair, reopen_last=False)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_models(pilot)
        assert screen.query_one("#models-ctx", Input).value == "8192"
        info = describe(tiny, name="tiny", source="registry")
        expected = format_bytes(memory.estimate_memory_bytes(info, 8192))
        assert cell(screen.query_one(ModelsTable), "tiny", "memory") == expected


def test_path_completion_prefers_folders_and_gguf_files(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "model.txt").write_text("x")
    (tmp_path / "mistral.gguf").write_bytes(b"GGUF")
    assert complete_path(str(tmp_path / "mo")) == str(tmp_path / "models") + "/"
    assert complete_path(str(tmp_path / "mi")) == str(tmp_path / "mistral.gguf")
    assert complete_path(str(tmp_path / "model.")) == str(tmp_path / "model.txt")
    assert complete_path(str(tmp_path / "zzz")) is None
    assert complete_path("") is None


def test_snapshot_models_screen(snap_compare, tiny: Path, plenty_of_memory: int) -> None:  # noqa: ANN001
    registry.add(tiny, "tiny")

    async def ready(pilot) -> None:  # noqa: ANN001
        await open_models(pilot)
        await freeze_cursors(pilot)

    assert snap_compare(sections_app(), terminal_size=WIDE, run_before=ready)
