"""`duel chat`: one prompt, two models answering at the same time, stats under each.

Both generations run in their own thread (llama.cpp releases the GIL), each engine with its share of
the cores; when one ends, the other gets its cores (the pair's thread handover, tui/pair.py, which
the TUI's chat panes use too). On a terminal the answers stream live in two columns; otherwise (a
pipe, `--json`) the result is printed once at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.commands.options import add_weights_option

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from engines.base import Engine, GenerationParams, Message, Stats
    from tui.chat_state import Side
    from tui.pair import ModelPair

EXAMPLES = """examples:
  duel chat "Explain a hash map in two sentences."
  duel chat -m qwen2.5-coder-0.5b -m ./Llama-3.2-1B-Q4_K_M.gguf --max-tokens 128 --temperature 0 "..."
  duel chat -m smollm2-135m -m smollm2-135m --temperature 1.0 "Write a haiku"    # same model twice
  duel chat --json "What is 2+2?" | jq .tokens_per_s
"""

REFRESH_PER_S = 12  # live view redraws; tokens arrive faster, batching keeps the terminal calm


def _at_least(minimum: float, kind: type = int):
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        return value

    return parse


def _top_p(text: str) -> float:
    value = _at_least(0.0, float)(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add this command's parser to `sub`."""
    parser = sub.add_parser(
        "chat",
        help="ask two models the same thing, side by side, with speed figures",
        description="Ask one or two models the same prompt. The answers stream side by side, then each\n"
        "model's time to first token, tokens/s, prompt tokens/s, tokens generated and finish reason.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("prompt", help='the user message ("-" reads it from stdin)')
    parser.add_argument("-m", "--model", dest="models", action="append", metavar="REF",
                        help="model name, path to a .gguf, or scripted:/remote: reference; give one or two "
                        "(default: the bundled pair)")
    parser.add_argument("--max-tokens", type=_at_least(1), default=256, metavar="N",
                        help="reply length limit (256)")
    parser.add_argument("--temperature", type=_at_least(0.0, float), default=0.7, metavar="T",
                        help="sampling temperature; 0 is greedy (0.7)")
    parser.add_argument("--top-p", type=_top_p, default=0.95, metavar="P", help="nucleus sampling (0.95)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="sampling seed for reproducible replies")
    parser.add_argument("--ctx", type=_at_least(16), default=4096, metavar="N",
                        help="context window in tokens (4096)")
    parser.add_argument("--threads", type=_at_least(1), default=None, metavar="N",
                        help="CPU threads for all models together, split between them (default: all cores)")
    parser.add_argument("--gpu-layers", type=_at_least(0), default=0, metavar="N",
                        help="layers to offload to a GPU (0)")
    add_weights_option(parser)
    parser.add_argument("--system", default=None, metavar="TEXT", help="a system message before the prompt")
    parser.add_argument("--force", action="store_true", help="load even if the memory estimate says no")
    parser.add_argument("--json", action="store_true", help="no live view; one JSON object per model")
    parser.set_defaults(handler=run_chat)


@dataclass
class Lane:
    """One model's side of the duel: its engine and what the generation thread produced."""

    ref: str
    engine: Engine
    side: Side
    parts: list[str] = field(default_factory=list)
    threads_at_start: int | None = None
    stats: Stats | None = None
    error: BaseException | None = None
    done: bool = False

    @property
    def text(self) -> str:
        return "".join(self.parts)


def run_chat(args: argparse.Namespace) -> int:
    from models.errors import DuelError
    from tui.pair import ModelPair

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise DuelError("the prompt is empty")
    refs = args.models or _default_pair()
    if len(refs) > 2:
        raise DuelError(f"duel chat compares one or two models; got {len(refs)} (-m given {len(refs)} times)")
    messages: list[Message] = ([{"role": "system", "content": args.system}] if args.system else [])
    messages.append({"role": "user", "content": prompt})
    params = _params(args)

    pair = ModelPair(*refs, total_threads=args.threads)  # the TUI's pair object, on one or two models
    lanes = _load(pair, args)
    try:
        interrupted = _generate(pair, lanes, messages, params, live=not args.json and sys.stdout.isatty())
    finally:
        pair.close()
    for lane in lanes:  # a failure in one lane is reported after the other lane's output is shown
        if lane.error is None and lane.stats is None:
            lane.error = RuntimeError(f"{lane.ref}: the stream ended without stats")
    if args.json:
        for lane in lanes:
            if lane.stats is not None:
                print(json.dumps(_json_record(lane), ensure_ascii=False), flush=True)
    else:
        _print_final(lanes)
    errors = [lane.error for lane in lanes if lane.error is not None]
    if errors:
        raise errors[0]
    return 130 if interrupted else 0


def _default_pair() -> list[str]:
    from models.resolve import DEFAULT_PAIR

    return list(DEFAULT_PAIR)


def _params(args: argparse.Namespace) -> GenerationParams:
    from engines.base import GenerationParams

    return GenerationParams(max_tokens=args.max_tokens, temperature=args.temperature, top_p=args.top_p,
                            seed=args.seed)


def _load(pair: ModelPair, args: argparse.Namespace) -> list[Lane]:
    """Open every engine of the pair, each with its share of the threads; on failure close them all."""
    from engines.base import LoadOptions
    from models.progress import no_progress
    from tui.commands.options import weights_choice

    weights = weights_choice(args)
    lanes: list[Lane] = []
    status = _stderr_console()
    try:
        for side in pair.sides:
            ref = pair.ref(side)
            options = LoadOptions(n_ctx=args.ctx, n_threads=pair.threads(side), n_gpu_layers=args.gpu_layers,
                                  seed=args.seed if args.seed is not None else 0, force=args.force,
                                  weights=weights)
            if status.is_terminal:
                with status.status(f"loading {ref}…") as spinner:

                    def progress(done: int, total: int, label: str, _ref: str = ref) -> None:
                        # the first use of the bundled Qwen assembles it (469 MiB): show how far
                        spinner.update(f"loading {_ref}: {label} {done / max(total, 1):.0%}")

                    engine = pair.switch(side, ref, options, progress=progress)
            else:
                engine = pair.switch(side, ref, options, progress=no_progress)
            assert engine is not None  # nothing stops a switch here but an exception
            lanes.append(Lane(ref, engine, side, threads_at_start=getattr(engine, "threads", None)))
            template = engine.template
            if template.source.startswith("builtin:") and engine.describe().path and not args.json:
                status.print(f"note: {ref} renders prompts with the {template.source} chat template "
                             "(its GGUF file has none)", highlight=False)
            loaded = getattr(engine, "weights", None)
            if loaded is not None and "warning:" in loaded.placement.reason:  # e.g. all on an AMX CPU
                status.print(f"warning: {ref}: weights {loaded.placement.summary()}", highlight=False,
                             markup=False)
    except BaseException:
        pair.close()
        raise
    return lanes


def _generate(pair: ModelPair, lanes: list[Lane], messages: list[Message], params: GenerationParams, *,
              live: bool) -> bool:
    """Run every lane in its own thread at once. Returns True when the user pressed Ctrl-C.

    When a lane finishes, the lanes still generating get its cores (`ModelPair.end_generating`).
    """
    stop = threading.Event()

    def work(lane: Lane) -> None:
        try:
            for chunk in lane.engine.stream_chat(messages, params, should_stop=stop.is_set):
                if chunk.text:
                    lane.parts.append(chunk.text)
                if chunk.stats is not None:
                    lane.stats = chunk.stats
        except BaseException as exc:  # handed to the main thread, reported once there
            lane.error = exc
        finally:
            lane.done = True
            pair.end_generating(lane.side)

    pair.begin_generating(*(lane.side for lane in lanes))  # all at once: each starts with its share
    threads = [threading.Thread(target=work, args=(lane,), name=f"duel-{lane.ref}", daemon=True)
               for lane in lanes]
    interrupted = False
    display = _LiveView(lanes) if live else None
    try:
        if display:
            display.start()
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            time.sleep(1 / REFRESH_PER_S)  # Ctrl-C lands here, in the main thread
            if display:
                display.refresh()
    except KeyboardInterrupt:
        interrupted = True
        stop.set()  # engines poll this between tokens and end with finish "cancelled"
        for thread in threads:
            thread.join()
    finally:
        if display:
            display.stop()
    return interrupted


# --- output ----------------------------------------------------------------------------------------


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _letter(index: int) -> str:
    return "AB"[index] if index < 2 else str(index + 1)


def _model_facts(lane: Lane) -> str:
    """Architecture · parameters · quantization, as far as they are known."""
    info = lane.engine.describe()
    bits = [info.architecture, info.parameters_label(), info.quantization]
    return " · ".join(b for b in bits if b and b not in ("?", "none"))


def _panel(lane: Lane, index: int, text: str, state: str = "") -> RenderableType:
    from rich.panel import Panel
    from rich.text import Text

    body = Text(text)
    if lane.error is not None:
        body.append(f"\n[error] {lane.error}", style="bold red")
    # Name on top; the template in use, then the facts at the bottom (narrow terminals cut the end;
    # the stats table repeats them all).
    parts = (f"template: {lane.engine.template.source}", _model_facts(lane), state)
    footer = " · ".join(p for p in parts if p)
    return Panel(body, title=f"[{_letter(index)}] {lane.engine.describe().name}", title_align="left",
                 subtitle=footer, subtitle_align="right", border_style="cyan" if index == 0 else "magenta")


def _columns(panels: list[RenderableType]) -> RenderableType:
    from rich.table import Table

    grid = Table.grid(expand=True, padding=(0, 1))
    for _ in panels:
        grid.add_column(ratio=1)
    grid.add_row(*panels)
    return grid


class _LiveView:
    """The two answers as they grow; shows the last lines of each so the view fits the terminal."""

    def __init__(self, lanes: list[Lane]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.lanes = lanes
        self.console = Console()
        self.live = Live(console=self.console, auto_refresh=False, transient=True)

    def start(self) -> None:
        self.live.start()
        self.refresh()

    def stop(self) -> None:
        self.live.stop()

    def refresh(self) -> None:
        self.live.update(self._render(), refresh=True)

    def _render(self) -> RenderableType:
        from rich.text import Text

        width = max((self.console.width - (len(self.lanes) - 1)) // len(self.lanes) - 4, 10)
        rows = max(self.console.height - 4, 3)
        panels = []
        for i, lane in enumerate(self.lanes):
            lines = Text(lane.text).wrap(self.console, width)
            tail = "\n".join(line.plain for line in lines[-rows:])
            state = "done" if lane.done else "generating…"
            panels.append(_panel(lane, i, tail, state))
        return _columns(panels)


def _print_final(lanes: list[Lane]) -> None:
    from rich.console import Console

    from tui.commands.cli_table import Column, print_table

    console = Console()
    console.print(_columns([_panel(lane, i, lane.text) for i, lane in enumerate(lanes)]))
    # One column per model, headed by its name, which is never cut; figures may wrap (see cli_table).
    headers = [f"[{_letter(i)}] {lane.engine.describe().name}" for i, lane in enumerate(lanes)]
    columns = [Column("", "keep")] + [Column(h, justify="right", min_width=len(h)) for h in headers]
    rows: list[tuple[str, Any]] = [
        ("time to first token", lambda s: f"{s.ttft_s:.2f} s"),
        ("generation", lambda s: f"{s.tokens_per_s:.1f} tokens/s"),
        ("prompt processing", lambda s: f"{s.prompt_tokens_per_s:.0f} tokens/s"),
        ("tokens generated", lambda s: str(s.completion_tokens)),
        ("prompt tokens", lambda s: str(s.prompt_tokens)),
        ("finish reason", lambda s: s.finish_reason),
    ]
    table = [["model", *[_model_facts(lane) for lane in lanes]]]
    for label, cell in rows:
        table.append([label, *[cell(lane.stats) if lane.stats else "—" for lane in lanes]])
    table.append(["threads", *[_threads_label(lane) for lane in lanes]])
    table.append(["weights", *[_weights_label(lane) for lane in lanes]])
    table.append(["chat template", *[lane.engine.template.source for lane in lanes]])
    print_table(console, columns, table)


def _threads_label(lane: Lane) -> str:
    """"1" or "1→2" when the lane got the cores of a lane that finished first."""
    end = getattr(lane.engine, "threads", None)
    if end is None:
        return "—"
    start = lane.threads_at_start
    return f"{start}→{end}" if start is not None and start != end else str(end)


def _weights_label(lane: Lane) -> str:
    """How llama.cpp placed the weights ("all (CPU_Mapped 463 MiB, CPU_REPACK 28 MiB)"); — if remote."""
    weights = getattr(lane.engine, "weights", None)
    return weights.describe() if weights is not None else "—"


def _json_record(lane: Lane) -> dict[str, Any]:
    assert lane.stats is not None
    info = lane.engine.describe()
    record: dict[str, Any] = {"model": info.name, "ref": lane.ref, "text": lane.text}
    record.update(lane.stats.to_json())
    record["template"] = lane.engine.template.source
    record["architecture"] = info.architecture
    record["quantization"] = info.quantization
    record["threads"] = lane.threads_at_start
    record["threads_at_end"] = getattr(lane.engine, "threads", None)
    weights = getattr(lane.engine, "weights", None)
    record["weights"] = None if weights is None else {
        "choice": weights.placement.choice, "mode": weights.placement.mode, "buffers_mib": weights.buffers}
    return record
