"""The blind arena: two models of a pool answer as "Model A" and "Model B"; the user votes, then sees who.

The rules (random pair and sides, no vote before both answers end, one final vote, names shown only
after it) are `benchmarks.arena.battle.Battle`'s; this screen drives one battle at a time with two
chat panes (tui/widgets/chat_pane.py) made blind by an alias. The arena has its own pair of engines
(a `ModelPair` opened the way the app's pair opens engines, with the same thread shares), apart from
the chat's: it frees them when the user leaves the arena (once answers in flight have ended) and
loads them again on return; a new battle replaces them.

Everything the screen shows before the vote is free of the models' names: the pane headers show the
alias only, load progress has no label, error texts (which may name the file) wait for the vote,
and model file hashes (stored with the vote) are computed in a worker.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from benchmarks.arena.battle import SIDES, VOTE_LABELS, Battle, draw_pairing
from benchmarks.arena.store import ArenaStore
from models.errors import DuelError
from tui.chat_state import PANES
from tui.messages import TurnSettled
from tui.pair import ModelPair
from tui.screens.arena_models import ALIASES, SIDE_OF_PANE, ArenaModels
from tui.screens.arena_setup import ArenaSetup, ArenaSetupScreen, remember_pool, remembered_pool
from tui.screens.help_screen import HELP_BINDINGS, HelpScreen, key_rows
from tui.widgets.chat_pane import DRAW_EVERY_S, ChatPane, TwoPanes
from tui.widgets.prompt_input import PromptInput
from tui.widgets.vote_bar import VOTE_KEYS, VoteBar

if TYPE_CHECKING:
    from tui.app import DuelApp

PROMPT_HINT = "Ask both hidden models… (Enter sends, F1 help)"

HELP_DESCRIPTIONS = {
    "vote('a')": "Vote: Model A's answer is better (votes open once both answers have ended)",
    "vote('b')": "Vote: Model B's answer is better",
    "vote('tie')": "Vote: a tie, both answers as good",
    "vote('bothbad')": "Vote: both answers are bad",
    "stop": "Stop both answers (a stopped answer has ended: you can vote on it)",
    "new_battle": "New battle: a new pair from the pool, on random sides",
    "setup": "Choose the pool and the settings both sides use",
    "help": "This help",
    "quit": "Quit",
}
ABOUT = (
    "Each battle draws two models of the pool at random and puts them on random sides, shown only as "
    "Model A (left) and Model B (right). Ask anything, as many turns as you like; both answer at once. "
    "When both answers have ended (a stopped or failed one has too) vote with 1-4: the vote is stored "
    "at once, cannot change, and reveals the names. Errors that could name a model are shown after "
    "the vote. Votes feed the leaderboard (F8) and `duel leaderboard`. The arena loads its own two "
    "models; it frees them when you leave it and loads them again when you come back."
)


class ArenaScreen(ArenaModels, TwoPanes, Screen[None]):
    BINDINGS = [
        *[Binding(key, f"vote('{vote}')", label) for vote, (key, label) in VOTE_KEYS.items()],
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+n", "new_battle", "New battle", priority=True),
        Binding("ctrl+l", "setup", "Pool", priority=True),
        *HELP_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.setup: ArenaSetup | None = None
        self.battle: Battle | None = None
        self.serial = 0  # battles fought on this screen; turns and hashes carry it, late ones are dropped
        self.pair: ModelPair  # made in compose: it opens engines the way the app's pair does
        self._store: ArenaStore | None = None
        self._away = False  # the user is in another section
        self._released = False  # the engines were freed while away: load them again on return

    @property
    def duel(self) -> DuelApp:
        return self.app  # type: ignore[return-value]

    # ----- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        app_pair = self.duel.pair
        self.pair = ModelPair(
            "",
            "",
            open_engine=app_pair.open_engine,
            threads=[app_pair.threads(side) for side in PANES],  # the chat's split of the cores
        )
        yield Static(id="arena-status")
        with Container(id="panes"):
            for side in PANES:
                yield ChatPane(
                    side,
                    self.pair,
                    alias=ALIASES[SIDE_OF_PANE[side]],
                    no_model_hint="press ctrl+n for a new battle",
                )
        yield VoteBar(id="vote-bar")
        # No select-all on focus: typing on the vote bar moves here with the first letter typed (on_key).
        yield PromptInput(placeholder=PROMPT_HINT, id="arena-prompt", select_on_focus=False)
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self._store = ArenaStore(self.duel.arena_store_path)
        self.set_interval(DRAW_EVERY_S, self.draw_panes)
        self.app.mode_change_signal.subscribe(self, self._mode_changed)
        setup = self.duel.arena_setup
        self._show_state()
        if setup.pool:
            await self.begin(setup)
        else:
            self.action_setup()

    @property
    def store(self) -> ArenaStore:
        assert self._store is not None, "the arena store opens on mount"
        return self._store

    @property
    def prompt_box(self) -> PromptInput:
        return self.query_one("#arena-prompt", PromptInput)

    @property
    def vote_bar(self) -> VoteBar:
        return self.query_one(VoteBar)

    @property
    def answering(self) -> bool:
        return self.battle is not None and self.battle.answering

    @property
    def can_vote(self) -> bool:
        """Both answers ended, no vote yet, and both file hashes known (the vote stores them)."""
        return self.battle is not None and self.battle.can_vote and self.battle.hashes_known

    # ----- battles ------------------------------------------------------------------------------
    async def begin(self, setup: ArenaSetup) -> None:
        """Battle with this pool and these settings from now on (a new battle at once)."""
        self.setup = setup
        for side in PANES:
            self.pair.set_settings(side, setup.settings)
        await self.new_battle()

    async def new_battle(self) -> None:
        """Draw a new pair (not the last one, when the pool has three or more) and load it."""
        assert self.setup is not None
        previous = self.battle.pairing if self.battle is not None else None
        self._report_abandoned_failures()
        self.serial += 1
        self.battle = Battle(
            draw_pairing(self.setup.pool, self.duel.arena_rng, previous),
            self.store,
            self.setup.settings_json(),
            system_prompt=self.setup.settings.system_prompt,
        )
        for pane in self.panes:
            pane.conceal(ALIASES[SIDE_OF_PANE[pane.pane]])
            await pane.clear()
        self._released = False
        for pane in self.panes:
            # The pair closes the last battle's model of this side before it opens the new one.
            await pane.load_model(self.battle.pairing.ref(SIDE_OF_PANE[pane.pane]))
        self.prompt_box.disabled = False
        self.prompt_box.focus()
        self._show_state()

    def _report_abandoned_failures(self) -> None:
        """A battle left without a vote after a model failed to load: say which and why, now."""
        if self.battle is None or self.battle.revealed:
            return
        for pane in self.panes:
            if pane.load_error:
                self.notify(
                    f"In the battle just left, {pane.ref} failed to load: {pane.load_error}",
                    severity="error",
                    timeout=12,
                    markup=False,
                )

    def _show_state(self) -> None:
        """The status line, the vote bar, the prompt box and the footer's keys, from the battle's state."""
        status = self.query_one("#arena-status", Static)
        battle = self.battle
        if battle is None or self.setup is None:
            status.update(Text("Arena · choose a pool to start (ctrl+l)", style="bold"))
            self.vote_bar.show_waiting("No battle yet.")
            self.refresh_bindings()
            return
        turns = f"{battle.turns} turn{'s' if battle.turns != 1 else ''}"
        line = Text(f"Arena · battle {self.serial} · ", style="bold")
        line.append(f"pool of {len(self.setup.pool)} models · {turns} · ")
        if battle.revealed:
            line.append("voted", style="bold green")
        else:
            line.append("Model A vs Model B, names hidden until you vote", style="italic")
        status.update(line)
        self.sub_title = f"battle {self.serial}"
        if battle.revealed:
            self.vote_bar.show_result(self._reveal_text())
        elif self.can_vote:
            self.vote_bar.show_open()
        elif battle.answering:
            self.vote_bar.show_waiting("Vote when both answers have ended (Escape stops them).")
        elif battle.turns and not battle.hashes_known:
            self.vote_bar.show_waiting("Checking the model files (their sha256 is stored with the vote)…")
        else:
            self.vote_bar.show_waiting("Ask something: both hidden models answer, then you vote.")
        self.refresh_bindings()

    def _reveal_text(self) -> Text:
        assert self.battle is not None and self.battle.vote is not None
        text = Text("You voted ", style="bold")
        text.append(VOTE_LABELS[self.battle.vote], style="bold green")
        for side in SIDES:
            text.append(f" · {ALIASES[side]}: ")
            text.append(self.battle.pairing.ref(side), style="bold")
        text.append(" · ctrl+n new battle · F8 leaderboard", style="dim")
        return text

    # ----- sending ------------------------------------------------------------------------------
    @on(Input.Submitted, "#arena-prompt")
    async def _prompt_submitted(self, event: Input.Submitted) -> None:
        await self.send(event.value)

    async def send(self, text: str) -> bool:
        prompt = text.strip()
        battle = self.battle
        if not prompt:
            return False
        if battle is None:
            self.notify("Choose a pool first (ctrl+l).", severity="warning")
            return False
        if battle.revealed:
            self.notify("This battle has its vote: ctrl+n starts a new one.", severity="warning")
            return False
        if battle.answering:
            self.notify("Still answering: wait, or press Escape to stop.", severity="warning")
            return False
        battle.begin_turn(prompt)
        index = battle.turns - 1
        self.prompt_box.value = ""
        # Both answers start first and together, then the prompts are shown (as in the chat).
        turns = [pane.begin_turn(index, prompt, self.serial) for pane in self.panes]
        for pane, turn in zip(self.panes, turns, strict=True):
            await pane.show_turn(turn)
        self._show_state()
        return True

    def on_turn_settled(self, message: TurnSettled) -> None:
        message.stop()
        turn, battle = message.turn, self.battle
        if battle is None or turn.conversation_id != self.serial or battle.revealed:
            return  # an answer of a battle already left (stopped when the new one began)
        side = "b" if message.pane == "right" else "a"  # Model B answers on the right
        try:
            battle.end_answer(side, turn.answer, turn.stats, turn.finish_reason)
        except DuelError as exc:
            self.notify(f"Could not save the answers: {exc}", severity="error", markup=False)
        self._show_state()
        if battle.answering:
            return
        if self.can_vote and not self.prompt_box.value:
            self.vote_bar.focus_first()  # typing a follow-up still works: see on_key
        if self._away:
            self._release()

    def on_prompt_input_help_requested(self) -> None:
        self.action_help()

    def on_key(self, event: events.Key) -> None:
        """Typing while a vote button has the focus goes to the prompt box (a follow-up question)."""
        if not (event.is_printable and event.character) or event.key in self.active_bindings:
            return
        if (
            self.focused is not None
            and self.focused.has_class("vote-button")
            and not self.prompt_box.disabled
        ):
            event.stop()
            self.prompt_box.focus()
            self.prompt_box.insert_text_at_cursor(event.character)

    def on_unmount(self) -> None:
        # The panes stopped their threads as they unmounted; the engines are freed off the event loop.
        self.pair.close_in_background()
        if self._store is not None:
            self._store.close()

    # ----- actions ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "vote":
            if self.battle is None or self.battle.revealed:
                return False  # no keys to show once the vote is in
            return True if self.can_vote else None  # shown, disabled, until both answers ended
        if action == "stop":
            if self.battle is not None and self.battle.revealed:
                return False
            return True if self.answering else None
        if action == "new_battle":
            return True if self.setup is not None else None
        return True

    def on_vote_bar_voted(self, message: VoteBar.Voted) -> None:
        self.action_vote(message.vote)

    def action_vote(self, vote: str) -> None:
        battle = self.battle
        if battle is None or not self.can_vote:
            return  # the keys are disabled then; a click on a stale button lands here too
        try:
            battle.cast_vote(vote)
        except DuelError as exc:
            self.notify(f"The vote was not stored: {exc}", severity="error", markup=False)
            return
        for pane in self.panes:
            pane.reveal()
        self.prompt_box.disabled = True
        self.prompt_box.placeholder = "This battle has its vote: ctrl+n starts a new one (F8: leaderboard)"
        self.set_focus(None)
        self._show_state()

    async def action_stop(self) -> None:
        for pane in self.panes:
            await pane.cancel()

    async def action_new_battle(self) -> None:
        if self.setup is None:
            return
        battle = self.battle
        if battle is not None and battle.turns and not battle.revealed:
            from tui.screens.confirm import ConfirmScreen

            self.app.push_screen(
                ConfirmScreen(
                    "Leave this battle without a vote?",
                    "It is kept without a vote (the leaderboard only counts votes); the names stay "
                    "hidden, except that of a model that could not be loaded (named with the reason).",
                    yes_label="New battle",
                ),
                self._new_battle_confirmed,
            )
            return
        await self._fresh_battle()

    async def _new_battle_confirmed(self, yes: bool | None) -> None:
        if yes:
            await self._fresh_battle()

    async def _fresh_battle(self) -> None:
        self.prompt_box.placeholder = PROMPT_HINT
        await self.new_battle()

    def action_setup(self) -> None:
        current = self.setup or ArenaSetup(remembered_pool(), self.duel.arena_setup.settings)
        self.app.push_screen(ArenaSetupScreen(current, self.duel.list_models), self._setup_chosen)

    async def _setup_chosen(self, setup: ArenaSetup | None) -> None:
        if setup is None:
            if self.setup is None:
                self.notify("Choose a pool to start a battle (ctrl+l).", severity="warning")
            return
        try:
            remember_pool(setup.pool)
        except DuelError as exc:  # an unwritable config must not stop the arena
            self.notify(f"Could not remember the pool: {exc}", severity="warning", markup=False)
        self.prompt_box.placeholder = PROMPT_HINT
        await self.begin(setup)

    def help_rows(self) -> list[tuple[str, str]]:
        rows = [("enter", "Send the prompt to both hidden models")]
        rows += key_rows(self, HELP_DESCRIPTIONS)
        rows.append((self.app.COMMAND_PALETTE_BINDING, "Command palette: every action by name"))
        return rows

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.help_rows(), about=ABOUT))

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        """(title, help, callback) for the command palette while the arena is on screen."""
        votes = [
            (
                f"Vote: {label}",
                f"Store this vote and reveal the names ({key})",
                partial(self.action_vote, vote),
            )
            for vote, (key, label) in VOTE_KEYS.items()
            if self.can_vote
        ]
        return [
            *votes,
            ("New battle", "A new pair from the pool, on random sides (ctrl+n)", self.action_new_battle),
            (
                "Arena pool and settings",
                "Which models battle, and the settings of both (ctrl+l)",
                self.action_setup,
            ),
            ("Stop answers", "Stop both answers (Escape)", self.action_stop),
            ("Keys", "Every key of the arena (F1)", self.action_help),
        ]
