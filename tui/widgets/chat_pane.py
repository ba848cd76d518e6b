"""One side of the duel: a model, its own conversation, its answers streaming in.

Loading and generation run in thread workers that only post messages (tui/messages.py); this
widget owns what the user sees and handles every worker failure in `on_worker_state_changed`,
so a failing model shows its reason here while the other pane carries on. Which model, its settings
and its engine belong to a pair (tui/pair.py: the chat's is the app's; the arena has its own); the
pane shows one side of it.

A pane with an `alias` is blind (the arena): it shows the alias ("Model A") instead of the model's
name and details, a neutral load progress, and holds back error texts (they may name the file)
until `reveal()`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from engines.base import EngineError, GenerationParams, LoadOptions, Stats
from models.info import ModelInfo
from tui.chat_state import PANES, PaneSettings, PaneTurn, Side, fit_to_context, history_pairs
from tui.engine_slot import CancelledWhileWaiting
from tui.messages import (
    AnswerDone,
    AnswerText,
    ContextTrimmed,
    LoadProgress,
    ModelReady,
    PaneLoadFailed,
    PaneModelChanged,
    TurnSettled,
)
from tui.pair import PairService
from tui.widgets.pane_header import PaneHeader
from tui.widgets.transcript import Transcript
from tui.widgets.turn_view import HIDDEN_REASON, TurnView

# Streamed text reaches the UI thread at most this often per pane (the first piece goes at once,
# so the time to first token the user sees is the model's). The screen then draws what arrived
# for both panes together, at most every DRAW_EVERY_S (see ChatScreen): each redraw re-lays out
# and re-renders the screen, and on a small machine that CPU time comes out of the models' share.
TEXT_BATCH_S = 0.15
DRAW_EVERY_S = 0.15
PROGRESS_EVERY_S = 0.1


@dataclass(frozen=True)
class GenerationJob:
    turn_index: int
    generation: int
    system_prompt: str
    history: list[tuple[str, str]]
    prompt: str
    params: GenerationParams
    no_model_reason: str


PLACEHOLDER = "Ask something below: both models answer side by side."


NARROW_BELOW = 100  # columns: narrower terminals stack the panes (the screen gets class -narrow)


class TwoPanes:
    """Mixed into a screen that shows both panes (the chat, the arena): side by side, or stacked when
    the terminal is narrow; finding them by side; drawing what streamed into them in one refresh
    (call `draw_panes` every DRAW_EVERY_S)."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]

    def pane(self: Screen, side: str) -> ChatPane:
        return self.query_one(f"#pane-{side}", ChatPane)

    @property
    def panes(self) -> list[ChatPane]:
        return [self.pane(side) for side in PANES]

    async def draw_panes(self: Screen) -> None:
        panes: list[ChatPane] = self.panes
        if not any(pane.has_undrawn_text for pane in panes):
            return
        with self.app.batch_update():  # one screen refresh for both panes
            for pane in panes:
                await pane.draw_pending()


class ChatPane(Vertical):
    def __init__(
        self,
        pane: Side,
        pair: PairService,
        *,
        alias: str | None = None,
        no_model_hint: str = "press ctrl+l to pick one",
    ) -> None:
        super().__init__(id=f"pane-{pane}", classes="pane")
        self.pane: Side = pane
        self._pair = pair
        self.alias = alias  # shown instead of the model while set (a blind pane); see reveal()
        self._no_model_hint = no_model_hint
        self.info: ModelInfo | None = None
        self.turns: list[PaneTurn] = []
        self.load_error: str | None = None
        self.model_loading = False  # not `loading`: that Widget reactive hides the pane under a spinner
        self.n_ctx: int | None = None
        self._views: dict[int, TurnView] = {}
        self._current: tuple[PaneTurn, int, Worker] | None = None
        self._undrawn = ""  # streamed text not yet drawn (the screen draws at a bounded rate)
        self._generation = 0
        self._load_id = 0
        self._load_worker: Worker | None = None

    # ----- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield PaneHeader(classes="pane-header")
        yield ProgressBar(total=None, show_eta=False, classes="load-progress")
        with Transcript(classes="transcript"):
            yield Static(PLACEHOLDER, classes="placeholder")

    def on_mount(self) -> None:
        self._show_identity()
        self.query_one(ProgressBar).display = False

    def _show_identity(self) -> None:
        header = self.query_one(PaneHeader)
        if self.alias is not None:
            header.show_alias(self.alias)
        else:
            header.show_model(self.info, self.ref)

    def conceal(self, alias: str) -> None:
        """Show `alias` instead of the model from now on, and hold back error texts (a blind battle)."""
        self.alias = alias
        self._show_identity()

    def reveal(self) -> None:
        """Show the model and every held-back error text (the vote is in)."""
        if self.alias is None:
            return
        self.alias = None
        self._show_identity()
        if self.load_error:
            self._add_note(f"{self.ref} could not be loaded: {self.load_error}", error=True)
        for view in self._views.values():
            view.reveal_errors()

    @property
    def ref(self) -> str:
        """The model chosen for this pane (it may still be loading, or have failed to)."""
        return self._pair.ref(self.pane)

    @property
    def settings(self) -> PaneSettings:
        return self._pair.settings(self.pane)

    @settings.setter
    def settings(self, settings: PaneSettings) -> None:
        self._pair.set_settings(self.pane, settings)

    @property
    def transcript(self) -> Transcript:
        return self.query_one(".transcript", Transcript)

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def model_label(self) -> str:
        return self.info.name if self.info else self.ref

    def _status(self, text: str, style: str = "") -> None:
        self.query_one(PaneHeader).show_status(text, style)

    def _idle_status(self) -> None:
        if self.model_loading:
            self._status("loading…", "italic")
        elif self.load_error:
            self._status("failed to load", "bold")
        else:
            self._status(f"ready · ctx {self.n_ctx}" if self.n_ctx else "ready")

    # ----- loading ------------------------------------------------------------------------------
    async def load_model(self, ref: str) -> None:
        """Load `ref` in the background, replacing the current model (its answers stay)."""
        await self.cancel()
        if self._load_worker is not None:
            self._load_worker.cancel()  # a newer choice wins; the old load closes what it opened
        self._load_id += 1
        self._pair.choose(self.pane, ref)
        self.info = None
        self.n_ctx = None
        self.load_error = None
        self.model_loading = True
        self._show_identity()
        self._status("loading…", "italic")
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        options = LoadOptions(
            n_ctx=self.settings.n_ctx,
            n_threads=self._pair.threads(self.pane),
            n_gpu_layers=self.settings.gpu_layers,
            weights=self.settings.weights,
        )
        self._load_worker = self.run_worker(
            partial(self._load_blocking, ref, options, self._load_id),
            thread=True,
            group=f"load-{self.pane}",
            name=f"load {ref}",
            exit_on_error=False,
        )

    def _load_blocking(self, ref: str, options: LoadOptions, load_id: int) -> None:
        """Thread: the pair closes the old engine and opens the new one; only posts messages."""
        worker = get_current_worker()
        last_post = 0.0

        def progress(done: int, total: int, label: str = "") -> None:
            nonlocal last_post
            if worker.is_cancelled:  # stop assembling/verifying a file nobody waits for any more
                raise CancelledWhileWaiting
            now = time.monotonic()
            if now - last_post >= PROGRESS_EVERY_S or done >= total:
                last_post = now
                self.post_message(LoadProgress(load_id, done, total, label))

        started = time.perf_counter()
        # A failure raises on to on_worker_state_changed like every worker failure (and a prompt
        # waiting for this load reads the reason from the slot).
        engine = self._pair.switch(self.pane, ref, options, progress, lambda: worker.is_cancelled)
        if engine is None:  # cancelled: the user already chose another model, or the app is closing
            return
        info, template, n_ctx = engine.describe(), engine.template, engine.n_ctx
        self.post_message(ModelReady(load_id, ref, info, template, n_ctx, time.perf_counter() - started))

    def on_load_progress(self, message: LoadProgress) -> None:
        if message.load_id != self._load_id or not self.model_loading:
            return
        bar = self.query_one(ProgressBar)
        bar.update(total=max(message.total, 1), progress=message.done)
        pct = 100 * message.done / max(message.total, 1)
        # A blind pane says "loading": "assembling" or "downloading" would tell which model it is.
        label = "loading" if self.alias is not None else message.label or "preparing"
        self._status(f"{label} {pct:.0f}%", "italic")

    def on_model_ready(self, message: ModelReady) -> None:
        message.stop()
        if message.load_id != self._load_id:
            return
        self.model_loading = False
        self.info = message.info
        self.query_one(ProgressBar).display = False
        self._show_identity()
        self.n_ctx = message.n_ctx
        self._idle_status()
        self.post_message(PaneModelChanged(self.pane, message.ref))

    def _load_failed(self, error: BaseException) -> None:
        self.model_loading = False
        self.load_error = str(error) or type(error).__name__
        self.query_one(ProgressBar).display = False
        self._status("failed to load", "bold")
        if self.alias is not None:
            self._add_note(f"{self.alias} could not be loaded; {HIDDEN_REASON}.", error=True)
        else:
            self._add_note(f"Could not load {self.ref}: {self.load_error}", error=True)
        self.post_message(PaneLoadFailed(self.pane, self.ref, self.load_error))

    # ----- turns --------------------------------------------------------------------------------
    def begin_turn(self, index: int, prompt: str, conversation_id: int | None) -> PaneTurn:
        """Start answering `prompt` at once; `show_turn` then mounts its view.

        The answer starts before the view is mounted so that mounting never delays the model; text
        that arrives first waits in `_undrawn`. The caller has saved the prompt already."""
        turn = PaneTurn(index=index, prompt=prompt, model=self.model_label, conversation_id=conversation_id)
        self.turns.append(turn)
        self._views[turn.index] = TurnView(turn, hide_errors=self.alias is not None)
        self._run_generation(turn)
        return turn

    async def show_turn(self, turn: PaneTurn) -> None:
        await self._mount_view(self._views[turn.index])

    async def regenerate_last(self) -> bool:
        """Write the last answer again (new sample with the current settings)."""
        if self.busy or not self.turns:
            return False
        turn = self.turns[-1]
        turn.answer, turn.stats, turn.finish_reason, turn.error = "", None, None, None
        turn.notice, turn.settled, turn.first_text_at, turn.tokens_seen = None, False, None, 0
        turn.model = self.model_label
        view = self._views[turn.index]
        await view.restart()
        self._run_generation(turn)
        return True

    def _run_generation(self, turn: PaneTurn) -> None:
        self._generation += 1
        self._undrawn = ""
        turn.started_at = time.perf_counter()
        history = history_pairs([t for t in self.turns if t.index < turn.index])
        reason = f"no model loaded ({self.load_error})" if self.load_error else "no model loaded"
        job = GenerationJob(
            turn.index,
            self._generation,
            self.settings.system_prompt,
            history,
            turn.prompt,
            self.settings.generation_params(),
            reason,
        )
        worker = self.run_worker(
            partial(self._generate_blocking, job),
            thread=True,
            group=f"generate-{self.pane}",
            name=f"{self.pane} turn {turn.index}",
            exit_on_error=False,
        )
        self._current = (turn, self._generation, worker)
        self._status("answering…", "italic")
        self._views[turn.index].refresh_footer()

    def _generate_blocking(self, job: GenerationJob) -> None:
        """Thread: fit the history, stream the answer, post batched text and the final stats."""
        worker = get_current_worker()

        def should_stop() -> bool:
            return worker.is_cancelled

        try:
            with self._pair.slot(self.pane).hold(should_stop) as slot:
                # Waits while the model loads, so a prompt sent during loading starts when it is ready.
                engine = slot.engine
                if engine is None:
                    reason = f"no model loaded ({slot.failure})" if slot.failure else job.no_model_reason
                    raise EngineError(f"{reason}; {self._no_model_hint}")
                fitted = fit_to_context(
                    engine.count_chat_tokens,
                    job.system_prompt,
                    job.history,
                    job.prompt,
                    engine.n_ctx,
                    job.params.max_tokens,
                )
                if fitted.dropped_turns:
                    self.post_message(
                        ContextTrimmed(
                            job.turn_index,
                            job.generation,
                            fitted.dropped_turns,
                            fitted.prompt_tokens,
                            engine.n_ctx,
                        )
                    )
                params = replace(job.params, max_tokens=fitted.max_tokens)
                pending: list[str] = []
                last_post = float("-inf")
                stats: Stats | None = None
                # The pair shares the cores between the panes answering; when this one ends, the
                # other pane (if still answering) gets its threads.
                with self._pair.generating(self.pane):
                    for chunk in engine.stream_chat(fitted.messages, params, should_stop):
                        if chunk.text:
                            pending.append(chunk.text)
                        if chunk.stats is not None:
                            stats = chunk.stats
                        now = time.monotonic()
                        if pending and now - last_post >= TEXT_BATCH_S:
                            self.post_message(
                                AnswerText(job.turn_index, job.generation, "".join(pending), len(pending))
                            )
                            pending, last_post = [], now
                if pending:
                    self.post_message(
                        AnswerText(job.turn_index, job.generation, "".join(pending), len(pending))
                    )
        except CancelledWhileWaiting:
            return
        if stats is None:
            raise EngineError("the engine ended the answer without its statistics")
        self.post_message(AnswerDone(job.turn_index, job.generation, stats))

    def _live_turn(self, turn_index: int, generation: int) -> PaneTurn | None:
        if self._current is None:
            return None
        turn, current_generation, _ = self._current
        if turn.index != turn_index or current_generation != generation or turn.settled:
            return None  # a late message from a cancelled run
        return turn

    async def on_answer_text(self, message: AnswerText) -> None:
        message.stop()
        turn = self._live_turn(message.turn_index, message.generation)
        if turn is None:
            return
        first = turn.first_text_at is None
        if first:
            turn.first_text_at = time.perf_counter()
            self._views[turn.index].refresh_footer()
        turn.answer += message.text
        turn.tokens_seen += message.tokens
        self._undrawn += message.text
        if first:
            await self.draw_pending()

    @property
    def has_undrawn_text(self) -> bool:
        return bool(self._undrawn) and self._current is not None

    async def draw_pending(self) -> None:
        """Append the text that arrived since the last draw to the answer being written."""
        if not self._undrawn or self._current is None:
            return
        view = self._views[self._current[0].index]
        if not view.ready.is_set():
            return  # not mounted yet: drawn at the next tick
        text, self._undrawn = self._undrawn, ""
        await view.write(text)

    async def on_answer_done(self, message: AnswerDone) -> None:
        message.stop()
        turn = self._live_turn(message.turn_index, message.generation)
        if turn is not None:
            await self._settle(turn, message.stats)

    def on_context_trimmed(self, message: ContextTrimmed) -> None:
        message.stop()
        turn = self._live_turn(message.turn_index, message.generation)
        if turn is None:
            return
        plural = "s" if message.dropped_turns != 1 else ""
        turn.notice = (
            f"{message.dropped_turns} oldest turn{plural} left out so the prompt "
            f"({message.prompt_tokens} tokens) fits the {message.n_ctx}-token context."
        )
        self._views[turn.index].refresh_footer()

    def _ui_stats(self, turn: PaneTurn, finish_reason: str) -> Stats:
        """Stats as the UI saw them, for answers whose engine figures never arrived."""
        now = time.perf_counter()
        elapsed = now - turn.started_at
        ttft = (turn.first_text_at - turn.started_at) if turn.first_text_at else elapsed
        return Stats(0, turn.tokens_seen, ttft, elapsed, finish_reason)

    async def _settle(self, turn: PaneTurn, stats: Stats, error: str | None = None) -> None:
        """Make `turn`'s answer final. `settled` is set last, once the pane shows the final state."""
        self._current = None  # from here on, late messages of this run are ignored
        turn.stats = stats
        turn.finish_reason = stats.finish_reason
        turn.error = error
        view = self._views[turn.index]
        await view.ready.wait()  # a very early end (e.g. no model) can come before the mount
        text, self._undrawn = self._undrawn, ""
        if text:
            await view.write(text)
        await view.finish()
        if error:
            self._status("error", "bold")
        else:
            self._idle_status()
        turn.settled = True
        self.post_message(TurnSettled(self.pane, turn))

    async def cancel(self) -> bool:
        """Stop the answer being written; it is kept, marked cancelled. True if one was running."""
        if self._current is None:
            return False
        turn, _, worker = self._current
        worker.cancel()  # the engine sees it through should_stop at its next token
        await self._settle(turn, self._ui_stats(turn, "cancelled"))
        return True

    # ----- the one place worker failures are handled -----------------------------------------
    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        event.stop()
        worker = event.worker
        if worker is self._load_worker:
            if event.state == WorkerState.ERROR and worker.error is not None:
                self._load_failed(worker.error)
            return
        if self._current is None or self._current[2] is not worker:
            return
        turn = self._current[0]
        if event.state == WorkerState.ERROR:
            error = worker.error
            await self._settle(turn, self._ui_stats(turn, "error"), str(error) or type(error).__name__)
        elif event.state == WorkerState.CANCELLED:
            await self._settle(turn, self._ui_stats(turn, "cancelled"))
        elif event.state == WorkerState.SUCCESS and not turn.settled:
            # The worker returned without final stats (its wait for the engine was cancelled).
            await self._settle(turn, self._ui_stats(turn, "cancelled"))

    # ----- history ------------------------------------------------------------------------------
    async def _mount_view(self, view: TurnView) -> None:
        for placeholder in self.query(".placeholder"):
            await placeholder.remove()
        self._views[view.turn.index] = view
        await self.transcript.mount(view)

    def _add_note(self, text: str, *, error: bool = False) -> None:
        note = Static(Text(text), classes="pane-note" + (" -error" if error else ""))
        self.transcript.mount(note)

    async def clear(self) -> None:
        """Forget this pane's conversation (the model stays loaded)."""
        await self.cancel()
        self.turns.clear()
        self._views.clear()
        self.transcript.reset()
        await self.transcript.remove_children()
        await self.transcript.mount(Static(PLACEHOLDER, classes="placeholder"))

    async def show_turns(self, turns: list[PaneTurn]) -> None:
        """Show a reopened conversation's answers (settled turns from the store)."""
        await self.clear()
        for turn in turns:
            self.turns.append(turn)
            show_model = bool(turn.model and turn.model != self.model_label)
            await self._mount_view(TurnView(turn, show_model=show_model))

    def on_unmount(self) -> None:
        """Stop this pane's threads; the app frees the engine off the event loop (DuelApp.on_unmount)."""
        if self._current is not None:
            self._current[2].cancel()
        if self._load_worker is not None:
            self._load_worker.cancel()  # a load that sees this closes what it opened
