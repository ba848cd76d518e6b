"""The chat screen: two panes, one prompt box, the keys that drive them.

The screen owns the conversation (turn numbers, saving, export) and the modals; each pane owns its
model and its answers. Panes never wait for each other: each streams in its own thread worker.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.events import DescendantFocus
from textual.screen import Screen
from textual.widgets import Footer, Input

from models.errors import DuelError
from tui.chat_state import PANES, PaneSettings
from tui.export import PaneExport, build_document, write_exports
from tui.messages import PaneModelChanged, TurnSettled
from tui.screens.help_screen import HELP_BINDINGS, HelpScreen, key_rows
from tui.screens.history_screen import HistoryScreen
from tui.screens.model_picker import ModelPickerScreen
from tui.screens.settings_screen import SettingsResult, SettingsScreen
from tui.widgets.chat_pane import DRAW_EVERY_S, ChatPane, TwoPanes
from tui.widgets.prompt_input import PromptInput

if TYPE_CHECKING:
    from tui.app import DuelApp


# What each key does, in the words of the help screen (the footer uses the short descriptions).
HELP_DESCRIPTIONS = {
    "cancel": "Stop both answers and put the prompt back in the box",
    "new_conversation": "Start a new conversation (clears both panes; the old one stays in history)",
    "pick_model": "Pick the model of the focused pane (searchable; or type a path/reference)",
    "settings": "Settings per pane: system prompt, temperature, top p, max tokens, seed, context size, "
    "GPU layers, weights on the CPU",
    "export": "Export the conversation to Markdown and JSON (both panes, stats, settings)",
    "regenerate": "Write the last answer again in both panes",
    "history": "Past conversations: reopen one",
    "help": "This help",
    "quit": "Quit",
}


class ChatScreen(TwoPanes, Screen[None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+n", "new_conversation", "New", priority=True),
        Binding("ctrl+l", "pick_model", "Model", priority=True),
        Binding("f2", "settings", "Settings"),
        Binding("ctrl+e", "export", "Export", priority=True),
        Binding("ctrl+r", "regenerate", "Regenerate", priority=True),
        Binding("ctrl+o", "history", "History", priority=True),
        *HELP_BINDINGS,
    ]

    def __init__(self, *, shared_system_prompt: bool = True, reopen_last: bool = True) -> None:
        super().__init__()
        self.shared_system_prompt = shared_system_prompt
        self._reopen_last = reopen_last
        self.conversation_id: int | None = None
        self.title_text = ""
        self._next_turn = 0
        self._last_prompt = ""
        self._active = "left"
        self.last_export: tuple[Any, Any] | None = None

    @property
    def duel(self) -> DuelApp:
        return self.app  # type: ignore[return-value]

    # ----- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Container(id="panes"):
            for side in PANES:
                yield ChatPane(side, self.duel.pair)
        yield PromptInput(placeholder="Ask both models… (Enter sends, F1 help)", id="prompt")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        if self._reopen_last:
            latest = self.duel.store.latest_id()
            if latest is not None:
                await self.open_conversation(latest, reload_models=False)
        for pane in self.panes:
            await pane.load_model(pane.ref)
        self._mark_active("left")
        self.prompt_box.focus()
        # Both panes' new text is drawn in one refresh, at a bounded rate (see chat_pane.DRAW_EVERY_S).
        self.set_interval(DRAW_EVERY_S, self.draw_panes)

    @property
    def prompt_box(self) -> PromptInput:
        return self.query_one("#prompt", PromptInput)

    @property
    def active_pane(self) -> ChatPane:
        return self.pane(self._active)

    @property
    def busy(self) -> bool:
        return any(pane.busy for pane in self.panes)

    def _mark_active(self, name: str) -> None:
        self._active = name
        for pane in self.panes:
            pane.set_class(pane.pane == name, "-active")

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        for node in event.widget.ancestors_with_self:
            if isinstance(node, ChatPane):
                self._mark_active(node.pane)
                return

    # ----- sending ------------------------------------------------------------------------------
    @on(Input.Submitted, "#prompt")
    async def _prompt_submitted(self, event: Input.Submitted) -> None:
        await self.send(event.value)

    async def send(self, text: str) -> bool:
        prompt = text.strip()
        if not prompt:
            return False
        if self.busy:
            self.notify("Still answering: wait, or press Escape to stop.", severity="warning")
            return False
        store = self.duel.store
        if self.conversation_id is None:
            self.title_text = prompt.splitlines()[0][:80]
            self.conversation_id = store.create_conversation(
                self.title_text, self.pane("left").ref, self.pane("right").ref, self.settings_json()
            )
        index = self._next_turn
        self._next_turn += 1
        self._last_prompt = prompt
        self.prompt_box.value = ""
        # The prompt is committed before either model sees it: a crash inside llama.cpp (it has
        # segfaulted on some CPUs) then loses no more than the answers being written. Saving takes
        # a millisecond; both answers then start together, and only then are the prompts mounted.
        for pane in self.panes:
            store.add_message(
                self.conversation_id,
                turn=index,
                pane=pane.pane,
                role="user",
                content=prompt,
                model=pane.model_label,
            )
        turns = [pane.begin_turn(index, prompt, self.conversation_id) for pane in self.panes]
        for pane, turn in zip(self.panes, turns, strict=True):
            await pane.show_turn(turn)
        return True

    def on_turn_settled(self, message: TurnSettled) -> None:
        turn = message.turn
        if turn.conversation_id is None:
            return
        self.duel.store.add_message(
            turn.conversation_id,
            turn=turn.index,
            pane=message.pane,
            role="assistant",
            content=turn.answer,
            model=turn.model,
            stats=turn.stats,
            finish_reason=turn.finish_reason,
            error=turn.error,
            notice=turn.notice,
        )

    def on_pane_model_changed(self, message: PaneModelChanged) -> None:
        # Only models that loaded are remembered, so a mistyped reference does not come back at the
        # next start.
        try:
            self.duel.pair.model_loaded(message.pane, message.ref)
        except DuelError as exc:  # an unwritable config must not stop the chat
            self.notify(f"Could not remember the model pair: {exc}", severity="warning", markup=False)
        # The conversation keeps the pair it started with; each saved answer names its own model.

    def on_prompt_input_help_requested(self) -> None:
        self.action_help()

    # ----- actions ------------------------------------------------------------------------------
    async def action_cancel(self) -> None:
        cancelled = [await pane.cancel() for pane in self.panes]
        if any(cancelled):
            if not self.prompt_box.value:
                self.prompt_box.value = self._last_prompt
                self.prompt_box.cursor_position = len(self._last_prompt)
            self.prompt_box.focus()

    async def action_new_conversation(self) -> None:
        for pane in self.panes:
            await pane.clear()
        self.conversation_id = None
        self.title_text = ""
        self._next_turn = 0
        self.prompt_box.focus()
        self.notify("New conversation.")

    def action_pick_model(self, pane: str | None = None) -> None:
        target = self.pane(pane) if pane else self.active_pane
        self.app.push_screen(
            ModelPickerScreen(target.pane, target.ref, self.duel.list_models),
            partial(self._model_chosen, target),
        )

    async def _model_chosen(self, pane: ChatPane, ref: str | None) -> None:
        if ref:
            await pane.load_model(ref)
        self.prompt_box.focus()

    async def action_same_model(self) -> None:
        """Load the left pane's model in the right pane too (compare one model under two settings)."""
        await self.pane("right").load_model(self.pane("left").ref)

    def action_settings(self) -> None:
        models = {pane.pane: pane.model_label for pane in self.panes}
        self.app.push_screen(
            SettingsScreen(
                self.pane("left").settings,
                self.pane("right").settings,
                shared_system_prompt=self.shared_system_prompt,
                models=models,
                describe_weights=self.duel.describe_weights,
            ),
            self._settings_chosen,
        )

    async def _settings_chosen(self, result: SettingsResult | None) -> None:
        if result is None:
            return
        await self.apply_settings(result)
        self.notify("Settings apply from the next prompt.")
        self.prompt_box.focus()

    async def apply_settings(self, result: SettingsResult, *, reload_models: bool = True) -> None:
        self.shared_system_prompt = result.shared_system_prompt
        for pane in self.panes:
            new = result.for_pane(pane.pane)
            fixed_at_load = ("n_ctx", "gpu_layers", "weights")
            context_changed = any(getattr(new, f) != getattr(pane.settings, f) for f in fixed_at_load)
            pane.settings = new
            if context_changed and reload_models:
                await pane.load_model(pane.ref)  # context size, offload and weights are fixed at load
        if self.conversation_id is not None:
            self.duel.store.update_conversation(self.conversation_id, settings=self.settings_json())

    def settings_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {pane.pane: pane.settings.model_dump() for pane in self.panes}
        data["shared_system_prompt"] = self.shared_system_prompt
        return data

    def action_export(self) -> None:
        panes = {
            pane.pane: PaneExport(pane.ref, pane.info, pane.settings, list(pane.turns)) for pane in self.panes
        }
        if not any(p.turns for p in panes.values()):
            self.notify("Nothing to export yet: send a prompt first.", severity="warning")
            return
        doc = build_document(self.title_text, self.conversation_id, panes)
        md_path, json_path = write_exports(doc)
        self.last_export = (md_path, json_path)
        self.notify(
            f"Exported to {md_path.parent}:\n{md_path.name}\n{json_path.name}", timeout=10, markup=False
        )

    async def action_regenerate(self) -> None:
        if self.busy:
            self.notify("Still answering: wait, or press Escape to stop.", severity="warning")
            return
        if self._next_turn == 0 or not any(pane.turns for pane in self.panes):
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        last = max(t.index for pane in self.panes for t in pane.turns)
        if self.conversation_id is not None:
            self.duel.store.delete_answers(self.conversation_id, last)
        for pane in self.panes:
            await pane.regenerate_last()

    def action_history(self) -> None:
        self.app.push_screen(
            HistoryScreen(self.duel.store.list_conversations(), self.conversation_id), self._history_chosen
        )

    async def _history_chosen(self, conversation_id: int | None) -> None:
        if conversation_id is not None:
            await self.open_conversation(conversation_id)
        self.prompt_box.focus()

    async def open_conversation(self, conversation_id: int, *, reload_models: bool = True) -> None:
        stored = self.duel.store.load(conversation_id)
        settings = stored.settings
        if all(isinstance(settings.get(p), dict) for p in PANES):
            # How this machine places weights (--weights, config.toml) is not the conversation's to change.
            weights = {pane.pane: pane.settings.weights for pane in self.panes}
            await self.apply_settings(
                SettingsResult(
                    PaneSettings.model_validate({**settings["left"], "weights": weights["left"]}),
                    PaneSettings.model_validate({**settings["right"], "weights": weights["right"]}),
                    bool(settings.get("shared_system_prompt", True)),
                ),
                reload_models=reload_models,
            )
        for pane in self.panes:
            await pane.show_turns(stored.turns[pane.pane])
        self.conversation_id = conversation_id
        self.title_text = stored.summary.title
        indexes = [t.index for turns in stored.turns.values() for t in turns]
        self._next_turn = max(indexes) + 1 if indexes else 0
        # A reopened conversation continues: later prompts are saved into it.

    def help_rows(self) -> list[tuple[str, str]]:
        """Every key of the chat screen and of the app (keys doing the same thing share a row)."""
        rows = [("enter", "Send the prompt to both panes"), *key_rows(self, HELP_DESCRIPTIONS)]
        rows += [
            ("tab / shift+tab", "Move the focus between the prompt and the panes"),
            (self.app.COMMAND_PALETTE_BINDING, "Command palette: every action by name"),
        ]
        return rows

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.help_rows()))
