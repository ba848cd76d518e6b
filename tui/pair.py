"""The models being compared: which ones, their settings, their engines and their thread shares.

One object, held by the app (`DuelApp.pair`) rather than by a screen, so the benchmark and models
screens ask it instead of reaching into the chat screen; `duel chat` uses the same object for its one
or two models. Plain Python, no Textual. Screens and panes see it through `PairService`; the app is
given one (tests give it a pair whose engine opener hands out scripted engines).

Each side has an `EngineSlot`: the engine, guarded so one thread at a time uses it (a generation, a
model switch, the final close). A switch closes the old model and opens the new one while holding the
process-wide load lock (engines/loading.py), so two sides never hold two half-loaded models at once.

The pair also shares the CPU threads between the sides that are generating (`generating(side)`):
when one side's answer ends, the side still answering gets its threads (engines/threads.py,
`rebalance_threads`), so one core does not idle while the slower model finishes; a side answering
alone has them all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from engines.base import Engine, LoadOptions
from engines.loading import CancelledWhileWaiting, one_load_at_a_time
from models.progress import ProgressFn
from tui.chat_state import PANES, PaneSettings, Side
from tui.engine_slot import EngineSlot

EngineOpener = Callable[..., Engine]  # open_engine(ref, options=None, progress=None)
RememberPair = Callable[[str | None, str | None], None]  # the refs that loaded (None: keep that side)
CLOSE_DEADLINE_S = 10.0  # how long freeing the engines at exit may wait for a thread still using one


def _never() -> bool:
    return False


class PairService(Protocol):
    """What the app's screens and chat panes need to know and do about the models being compared."""

    def ref(self, side: Side) -> str:
        """The model chosen for `side` (its load may still be running, or have failed)."""
        ...

    def choose(self, side: Side, ref: str) -> None: ...

    def settings(self, side: Side) -> PaneSettings: ...

    def set_settings(self, side: Side, settings: PaneSettings) -> None: ...

    def threads(self, side: Side) -> int | None:
        """The CPU threads `side`'s engine may use (None: the engine's own default)."""
        ...

    def open_engine(
        self, ref: str, options: LoadOptions | None = None, progress: ProgressFn | None = None
    ) -> Engine:
        """Open an engine the way this pair does (the benchmark runner opens its models with it)."""
        ...

    def slot(self, side: Side) -> EngineSlot: ...

    def generating(self, side: Side) -> AbstractContextManager[None]:
        """Around a generation on `side`'s engine, held by the caller's slot: the sides generating
        share the threads, and when it ends its threads go to the others."""
        ...

    def switch(
        self,
        side: Side,
        ref: str,
        options: LoadOptions,
        progress: ProgressFn | None = None,
        should_stop: Callable[[], bool] = _never,
    ) -> Engine | None:
        """Blocking: replace `side`'s engine with one for `ref`; None when stopped before the end."""
        ...

    def model_loaded(self, side: Side, ref: str) -> None:
        """`side` now runs `ref`: remember the pair for the next start (only models that loaded)."""
        ...

    def close_in_background(self) -> threading.Thread:
        """Free every engine in a thread (never on the UI's event loop); `closed` is set when done."""
        ...


class ModelPair:
    """The production PairService: one or two sides ("left", then "right"; `duel chat` may run one)."""

    def __init__(
        self,
        left: str,
        right: str | None = None,
        *,
        settings: Sequence[PaneSettings] | None = None,
        open_engine: EngineOpener | None = None,
        threads: Sequence[int | None] | None = None,
        total_threads: int | None = None,
        remember: RememberPair | None = None,
    ) -> None:
        refs = [left] if right is None else [left, right]
        self.sides: tuple[Side, ...] = PANES[: len(refs)]
        self._refs: dict[Side, str] = dict(zip(self.sides, refs, strict=True))
        self._loaded: dict[Side, str] = {}
        chosen = list(settings) if settings is not None else [PaneSettings() for _ in self.sides]
        self._settings: dict[Side, PaneSettings] = dict(zip(self.sides, chosen, strict=True))
        self._opener = open_engine
        if threads is None:
            from engines.threads import split_threads

            threads = split_threads(len(self.sides), total_threads)
        self._threads: dict[Side, int | None] = dict(zip(self.sides, threads, strict=True))
        shares = [t for t in threads if t]
        # What the sides generating share between them: the shares given, else the machine's cores.
        self._total_threads = sum(shares) if len(shares) == len(self.sides) else total_threads
        self._generating: set[Side] = set()
        self._sharing = threading.Lock()
        self._slots: dict[Side, EngineSlot] = {side: EngineSlot() for side in self.sides}
        self._remember = remember
        self.closed = threading.Event()

    # ----- what is compared -----------------------------------------------------------------------
    def ref(self, side: Side) -> str:
        return self._refs[side]

    def choose(self, side: Side, ref: str) -> None:
        self._refs[side] = ref

    def settings(self, side: Side) -> PaneSettings:
        return self._settings[side]

    def set_settings(self, side: Side, settings: PaneSettings) -> None:
        self._settings[side] = settings

    def threads(self, side: Side) -> int | None:
        return self._threads[side]

    def model_loaded(self, side: Side, ref: str) -> None:
        self._loaded[side] = ref
        if self._remember is not None:
            self._remember(self._loaded.get("left"), self._loaded.get("right"))

    # ----- engines --------------------------------------------------------------------------------
    def open_engine(
        self, ref: str, options: LoadOptions | None = None, progress: ProgressFn | None = None
    ) -> Engine:
        if self._opener is not None:
            return self._opener(ref, options, progress=progress)
        from engines.factory import open_engine  # looked up per call: the CLI's tests replace it

        return open_engine(ref, options, progress=progress)

    def slot(self, side: Side) -> EngineSlot:
        return self._slots[side]

    # ----- the threads of the sides generating --------------------------------------------------
    def begin_generating(self, *sides: Side) -> None:
        """`sides` start generating (their callers hold their slots): the threads are shared evenly
        between every side generating now."""
        with self._sharing:
            self._generating.update(sides)
            self._share_threads()

    def end_generating(self, side: Side) -> None:
        """`side` stopped generating: the sides still generating get its threads. Call it before
        letting go of the side's slot (after that, its engine may be switched or closed)."""
        with self._sharing:
            self._generating.discard(side)
            self._share_threads()

    @contextmanager
    def generating(self, side: Side) -> Iterator[None]:
        self.begin_generating(side)
        try:
            yield
        finally:
            self.end_generating(side)

    def _share_threads(self) -> None:
        from engines.threads import rebalance_threads

        # Only engines of sides generating: each is held by the thread generating on it, so none is
        # switched or closed under us; set_threads takes effect at that engine's next decode.
        running = [self._slots[s].engine for s in self.sides if s in self._generating]
        rebalance_threads([e for e in running if e is not None], self._total_threads)

    def switch(
        self,
        side: Side,
        ref: str,
        options: LoadOptions,
        progress: ProgressFn | None = None,
        should_stop: Callable[[], bool] = _never,
    ) -> Engine | None:
        """Close `side`'s engine, open `ref` in its place; raises what the opener raises.

        A thread waiting for this side's engine (a prompt sent while loading) reads `slot.failure`
        when the switch leaves no engine.
        """
        self._refs[side] = ref
        try:
            with self._slots[side].hold(should_stop) as slot:
                try:
                    with one_load_at_a_time(should_stop):
                        old, slot.engine, slot.ref, slot.failure = slot.engine, None, None, None
                        if old is not None:
                            old.close()  # free its memory before the next model is read in
                        engine = self.open_engine(ref, options, progress=progress)
                except CancelledWhileWaiting:
                    slot.failure = f"loading {ref} was cancelled"
                    return None
                except Exception as exc:
                    slot.failure = f"{ref} failed to load: {exc}"
                    raise
                threads = self._threads[side]
                if threads:
                    engine.set_threads(threads)
                if should_stop():  # another model was chosen meanwhile
                    engine.close()
                    return None
                slot.engine, slot.ref = engine, ref
                return engine
        except CancelledWhileWaiting:  # stopped while this side's engine was still in use
            return None

    def close(self, should_stop: Callable[[], bool] = _never) -> bool:
        """Free every side's engine once no thread uses it; False if `should_stop()` came first."""
        for slot in self._slots.values():
            try:
                with slot.hold(should_stop):
                    engine, slot.engine, slot.ref = slot.engine, None, None
                    if engine is not None:
                        engine.close()
            except CancelledWhileWaiting:
                return False
        self.closed.set()
        return True

    def close_in_background(self, deadline_s: float = CLOSE_DEADLINE_S) -> threading.Thread:
        """Run `close` in a thread that gives up after `deadline_s` (a stuck generation must not keep
        the process from exiting); the UI's event loop never waits for it."""
        give_up_at = time.monotonic() + deadline_s
        thread = threading.Thread(
            target=self.close, args=(lambda: time.monotonic() > give_up_at,), name="duel-close-engines"
        )
        thread.start()
        return thread
