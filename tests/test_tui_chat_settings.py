"""Pilot tests of the chat screen's settings (F2): sampling, system prompts, context size, GPU layers."""

from __future__ import annotations

from textual.widgets import Static
from tui_support import WIDE, Opener, make_app, send, wait_ready, wait_settled, wait_until

from engines.base import GenerationParams
from tui.chat_state import PaneSettings
from tui.screens.settings_screen import SettingsResult, SettingsScreen


async def apply_and_wait_for_reload(pilot, opener: Opener, pane: str = "left"):  # noqa: ANN201
    """Press ctrl+s in the settings; return (ref, LoadOptions) `pane` was loaded again with."""
    app = pilot.app
    opened_before = len(opener.opened)
    await pilot.press("ctrl+s")
    await wait_until(
        pilot,
        lambda: len(opener.opened) == opened_before + 1 and app.chat.pane(pane).info,
        what=f"{pane} pane reloaded",
    )
    ref, options, _ = opener.opened[-1]
    return ref, options


async def test_settings_change_applies_to_the_next_request() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        modal = app.screen
        assert isinstance(modal, SettingsScreen)
        modal.query_one("#left-temperature").value = "0"
        modal.query_one("#right-temperature").value = "0.8"
        modal.query_one("#left-max_tokens").value = "5"
        modal.query_one("#right-seed").value = "42"
        modal.query_one("#left-system").text = "Be brief."
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, SettingsScreen)
        await send(pilot, "hello")
        await wait_settled(pilot)
        alpha, beta = opener.engine("alpha"), opener.engine("beta")
        assert alpha.params[-1] == GenerationParams(max_tokens=5, temperature=0.0, top_p=0.95, seed=None)
        assert beta.params[-1].temperature == 0.8 and beta.params[-1].seed == 42
        # The system prompt is shared by default: both conversations start with it.
        for engine in (alpha, beta):
            assert engine.calls[-1][0] == {"role": "system", "content": "Be brief."}
        left = app.chat.pane("left")
        assert left.turns[0].finish_reason == "length" and len(left.turns[0].answer.split()) == 5


async def test_per_pane_system_prompt_and_context_size_reload() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        modal = app.screen
        modal.query_one("#shared-system").value = False
        await pilot.pause()
        modal.query_one("#left-system").text = "You are terse."
        modal.query_one("#right-system").text = "You are verbose."
        modal.query_one("#right-n_ctx").value = "2048"
        await pilot.pause()
        ref, options = await apply_and_wait_for_reload(pilot, opener, "right")
        assert ref.startswith("scripted:beta") and options.n_ctx == 2048
        await send(pilot, "x")
        await wait_settled(pilot)
        assert opener.engine("alpha").calls[-1][0]["content"] == "You are terse."
        assert opener.engine("beta").calls[-1][0]["content"] == "You are verbose."


async def test_invalid_setting_is_explained_and_keeps_the_modal_open() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        modal = app.screen
        modal.query_one("#left-temperature").value = "7"
        await pilot.press("ctrl+s")
        assert app.screen is modal
        assert "left pane: temperature" in str(modal.query_one("#settings-errors", Static).render())
        await pilot.press("escape")
        assert app.chat.pane("left").settings.temperature == 0.7


async def test_same_model_two_settings_loads_it_twice() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await app.chat.action_same_model()
        await wait_until(
            pilot, lambda: app.chat.pane("right").info and app.chat.pane("right").info.name == "alpha"
        )
        await app.chat.apply_settings(
            SettingsResult(PaneSettings(temperature=0.0), PaneSettings(temperature=0.8), True)
        )
        await send(pilot, "same model?")
        await wait_settled(pilot)
        alphas = [e for r, _, e in opener.opened if e.describe().name == "alpha"]
        assert len(alphas) == 2 and alphas[0] is not alphas[1]  # one engine per pane
        temps = sorted(e.params[-1].temperature for e in alphas)
        assert temps == [0.0, 0.8]
        left, right = app.chat.panes
        assert left.turns[0].answer != right.turns[0].answer


async def test_gpu_layers_setting_reloads_the_pane_with_offload() -> None:
    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        app.screen.query_one("#left-gpu_layers").value = "-1"
        await pilot.pause()
        ref, options = await apply_and_wait_for_reload(pilot, opener)
        assert ref.startswith("scripted:alpha") and options.n_gpu_layers == -1
        assert app.chat.pane("right").settings.gpu_layers == 0


async def test_weights_setting_explains_itself_and_reloads_the_pane() -> None:
    from textual.widgets import Select

    opener = Opener()
    app = make_app(opener=opener)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f2")
        note = app.screen.query_one("#left-weights-note", Static)
        assert str(note.render()).startswith("auto → all: no AMX kernels on this CPU")
        app.screen.query_one("#left-weights", Select).value = "plain"
        await pilot.pause()
        assert str(note.render()).startswith("plain: extra buffer types off")
        ref, options = await apply_and_wait_for_reload(pilot, opener)
        assert ref.startswith("scripted:alpha") and options.weights == "plain"
        assert app.chat.pane("right").settings.weights == "auto"
        assert app.chat.settings_json()["left"]["weights"] == "plain"
