"""Streaming into the TUI vs the engines alone: the aggregate tokens/s ratio, measured side by side.

1. Time from `duel` start (a real process on a pseudo-terminal) to an interactive screen (the
   footer drawn, keys accepted), and to both bundled models loaded.
2. Both bundled models generate the same answer (greedy, MAX_TOKENS) at once: through the engines
   alone (two threads, the TUI's thread split), and through the headless chat app (`run_test`),
   which streams both into Markdown panes. Rounds alternate (engine, tui, engine, tui, ...) on the
   same loaded engines, so drift on this shared machine hits both sides alike.

Aggregate tok/s = both answers' tokens / wall time until both are done (for the TUI: until both
panes show their final stats). The last line is the median over rounds of the paired ratio
`tui_stream_ratio=<TUI aggregate tok/s / engines-alone aggregate tok/s>` (target >= 0.90).

Run: python perf/tui_stream.py   (uses DUEL_HOME or the user's data dir for the assembled Qwen)
"""

from __future__ import annotations

import asyncio
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.base import Chunk, Engine, GenerationParams, LoadOptions, Message, ShouldStop  # noqa: E402
from engines.factory import open_engine  # noqa: E402
from engines.threads import split_threads  # noqa: E402
from models.resolve import DEFAULT_PAIR, resolve  # noqa: E402

ROUNDS = 6
MAX_TOKENS = 96
N_CTX = 2048
PROMPT = "Explain how a hash map works, with a short Python example."


class KeepOpen(Engine):
    """Lends a loaded engine to the app: the app's close() at exit must not free it."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner

    def describe(self):  # noqa: ANN201
        return self.inner.describe()

    @property
    def template(self):  # noqa: ANN201
        return self.inner.template

    @property
    def n_ctx(self) -> int:
        return self.inner.n_ctx

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams, should_stop: ShouldStop | None = None
    ) -> Iterator[Chunk]:
        return self.inner.stream_chat(messages, params, should_stop)

    def count_chat_tokens(self, messages: Sequence[Message]) -> int:
        return self.inner.count_chat_tokens(messages)

    def render_chat(self, messages: Sequence[Message]) -> str:
        return self.inner.render_chat(messages)

    def set_threads(self, n_threads: int) -> None:
        self.inner.set_threads(n_threads)

    def close(self) -> None:
        pass


def engines_alone(engines: list[Engine], params: GenerationParams) -> tuple[int, float]:
    """Both engines generate at once in plain threads; (total tokens, wall seconds)."""
    tokens = [0, 0]
    messages = [{"role": "user", "content": PROMPT}]

    def run(i: int) -> None:
        for chunk in engines[i].stream_chat(messages, params):
            if chunk.stats is not None:
                tokens[i] = chunk.stats.completion_tokens

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(tokens), time.perf_counter() - start


async def through_tui(engines: list[Engine], threads: list[int], home: Path) -> tuple[int, float]:
    """The same two generations sent from the chat app's prompt box; (total tokens, wall seconds)."""
    from tui.app import DuelApp
    from tui.chat_state import PaneSettings
    from tui.conversation_store import ConversationStore
    from tui.pair import ModelPair

    lent = {"left": KeepOpen(engines[0]), "right": KeepOpen(engines[1])}
    settings = PaneSettings(max_tokens=MAX_TOKENS, temperature=0.0, seed=0, n_ctx=N_CTX)
    pair = ModelPair(
        "left",
        "right",
        settings=(settings, settings),
        open_engine=lambda ref, options=None, progress=None: lent[ref],
        threads=(threads[0], threads[1]),
    )
    app = DuelApp(
        pair,
        list_models=list,
        store=ConversationStore(home / "perf-conversations.sqlite3"),
        reopen_last=False,
    )
    async with app.run_test(size=(160, 45)) as pilot:
        while not all(p.info is not None for p in app.chat.panes):
            await pilot.pause(0.01)
        # Sent as Enter sends it (ChatScreen.send), not through pilot.press: the pilot's own wait
        # for an idle screen would burn CPU that the models are measured against.
        start = time.perf_counter()
        await app.chat.send(PROMPT)
        while not all(p.turns and p.turns[0].settled for p in app.chat.panes):
            # asyncio.sleep, not pilot.pause (it forces a screen refresh per poll); 20 ms is well
            # under 1% of a run, and polling faster would itself take CPU from the models.
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - start
        for pane in app.chat.panes:
            if pane.turns[0].error:
                raise SystemExit(f"{pane.pane} pane failed: {pane.turns[0].error}")
        tokens = sum(p.turns[0].stats.completion_tokens for p in app.chat.panes)
    return tokens, elapsed


def startup_times(paths: list[Path], home: Path) -> tuple[float, float]:
    """Seconds from starting `duel` to the footer drawn, and to both models loaded."""
    env = dict(
        os.environ,
        DUEL_HOME=str(home),
        DUEL_LEFT=str(paths[0]),
        DUEL_RIGHT=str(paths[1]),
        TERM="xterm-256color",
        COLUMNS="160",
        LINES="45",
    )
    duel = Path(sys.executable).with_name("duel")
    command = [str(duel)] if duel.exists() else [sys.executable, "-m", "tui"]
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    interactive = ready = None
    deadline = start + 180
    try:
        while time.perf_counter() < deadline and ready is None:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            now = time.perf_counter() - start
            if interactive is None and b"Send" in seen:
                interactive = now
            if seen.count(b"ready") >= 2 or seen.count(b"ctx 2048") + seen.count(b"ctx 4096") >= 2:
                ready = now
        os.write(master, b"\x11")  # ctrl+q
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        os.close(master)
    return interactive or float("nan"), ready or float("nan")


def main() -> None:
    paths = [Path(resolve(name).path) for name in DEFAULT_PAIR]
    threads = split_threads(2)
    ratios: list[float] = []
    engine_rates: list[float] = []
    tui_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        to_screen, to_ready = startup_times(paths, home)
        print(f"duel start -> interactive screen: {to_screen:.2f} s; -> both models loaded: {to_ready:.2f} s")

        engines = [
            open_engine(str(p), LoadOptions(n_ctx=N_CTX, n_threads=n))
            for p, n in zip(paths, threads, strict=True)
        ]
        params = GenerationParams(max_tokens=MAX_TOKENS, temperature=0.0, seed=0)
        try:
            engines_alone(engines, GenerationParams(max_tokens=8, temperature=0.0))  # warm-up
            for round_ in range(1, ROUNDS + 1):
                e_tokens, e_s = engines_alone(engines, params)
                t_tokens, t_s = asyncio.run(through_tui(engines, threads, home))
                engine_rates.append(e_tokens / e_s)
                tui_rates.append(t_tokens / t_s)
                ratios.append(tui_rates[-1] / engine_rates[-1])
                print(
                    f"round {round_}: engines alone {e_tokens} tok in {e_s:.2f} s = {engine_rates[-1]:.1f} "
                    f"tok/s; TUI {t_tokens} tok in {t_s:.2f} s = {tui_rates[-1]:.1f} tok/s; "
                    f"ratio {ratios[-1]:.3f}"
                )
                if e_tokens != t_tokens:
                    print(f"  note: token counts differ ({e_tokens} vs {t_tokens})")
        finally:
            for engine in engines:
                engine.close()
    print(
        f"threads {threads}; best aggregate: engines alone {max(engine_rates):.1f} tok/s, "
        f"TUI {max(tui_rates):.1f} tok/s (best to best {max(tui_rates) / max(engine_rates):.3f})"
    )
    # The two sides of a round ran back to back, so the median of the paired ratios is the
    # figure least moved by other work on this shared machine.
    print(f"tui_stream_ratio={statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
