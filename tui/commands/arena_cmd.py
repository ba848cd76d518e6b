"""`duel arena`: the blind arena (TUI), and its headless parts: export, import, judge."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.commands.options import add_weights_option

if TYPE_CHECKING:
    from benchmarks.arena.judge_run import JudgeSummary

EXAMPLES = """examples:
  duel arena --pool qwen2.5-coder-0.5b,smollm2-135m,hf:OWNER/REPO/FILE.gguf   blind battles in the TUI
  duel arena export -o votes.jsonl                   every vote, LMSYS battle format (JSON Lines)
  duel arena export --voter human | gzip > human.jsonl.gz
  duel arena import clean_battle_20240814_public.json
  duel arena import mt_bench_gpt4_pair.jsonl --as-judge gpt-4
  duel arena judge --judge 'remote:http://localhost:8000/v1#judge' --pool qwen2.5-coder-0.5b,smollm2-135m
  duel arena judge --judge qwen2.5-coder-0.5b --pool smollm2-135m,MODEL2 --limit 10 --seeds 3
  duel leaderboard --voter judge:qwen2.5-coder-0.5b
"""

IMPORT_HELP = """LMSYS battle format: one JSON object per line (or a JSON array) with model_a, model_b, winner
(model_a | model_b | tie | tie (bothbad)), tstamp, and optionally judge, conversation_a, conversation_b.
A `judge` value written as judge:NAME is that judge's vote; any other value is a human vote (FastChat
puts user ids there) unless --as-judge NAME is given. The whole file is checked first: one malformed
record stops the import, names its line, and nothing of the file is stored. Records already imported
are skipped.
"""

JUDGE_HELP = """Each round plays every prompt once, with a pair of the pool drawn at random on random sides.
Contestants answer one model at a time (each loaded once, with every core); then the judge compares
the two answers of each battle in both orders: when the orders disagree the vote is a tie, and an
unreadable verdict leaves the battle without a vote (counted). The seeds vary the pairs, the sides and
the contestants' sampling; ratings are fitted per seed and reported as mean ± sd across seeds.
Judge votes are stored as judge:MODEL, apart from human votes.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `duel arena` and its subcommands."""
    arena = sub.add_parser(
        "arena",
        help="blind battles between models, their votes, and a judge model",
        description="Blind battles: two models from a pool answer as 'Model A' and 'Model B'; you vote, "
        "then the names are revealed. Votes feed `duel leaderboard`.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    arena.add_argument(
        "--pool",
        dest="arena_pool",
        metavar="A,B,...",
        help="models to draw pairs from (two or more); without it the arena asks (last pool preselected)",
    )
    arena.add_argument(
        "--max-tokens",
        dest="arena_max_tokens",
        type=int,
        default=512,
        metavar="N",
        help="answer length (512)",
    )
    arena.add_argument(
        "--temperature", dest="arena_temperature", type=float, default=0.7, metavar="T", help="sampling (0.7)"
    )
    add_weights_option(arena)
    arena.set_defaults(handler=cmd_arena)
    commands = arena.add_subparsers(dest="arena_command", metavar="COMMAND")

    export = commands.add_parser(
        "export",
        help="write the votes in the LMSYS battle format (JSON Lines)",
        description="Write every vote as one JSON object per line in the LMSYS / FastChat battle format.",
    )
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)")
    export.add_argument("--voter", default="all", metavar="VOTER", help="human, judge:NAME or all (default)")
    export.set_defaults(handler=cmd_export)

    imp = commands.add_parser(
        "import",
        help="add votes from an LMSYS battle file",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="JSONL (or JSON array) of battles")
    imp.add_argument("--as-judge", metavar="NAME", help="store every vote of the file as judge:NAME")
    imp.set_defaults(handler=cmd_import)

    judge = commands.add_parser(
        "judge",
        help="let a judge model vote on battles over a prompt set",
        description=JUDGE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    judge.add_argument("--judge", required=True, metavar="MODEL", help="the judge (local, remote: ...)")
    judge.add_argument("--pool", required=True, metavar="A,B,...", help="contestants, two or more")
    judge.add_argument(
        "--prompts", default="builtin", metavar="FILE|builtin", help="JSONL/text file, or the built-in 40"
    )
    judge.add_argument("--limit", type=int, metavar="N", help="use N prompts (spread over the categories)")
    judge.add_argument("--rounds", type=int, default=1, metavar="N", help="rounds per seed (default 1)")
    judge.add_argument("--seeds", type=int, default=3, metavar="K", help="number of seeds (default 3)")
    judge.add_argument("--seed", type=int, default=0, metavar="S", help="first seed (default 0)")
    judge.add_argument("--max-tokens", type=int, default=256, metavar="N", help="answer length (256)")
    judge.add_argument("--temperature", type=float, default=0.7, metavar="T", help="answer sampling (0.7)")
    judge.add_argument(
        "--judge-max-tokens", type=int, default=256, metavar="N", help="judge reply length (256)"
    )
    judge.add_argument(
        "--judge-temperature", type=float, default=0.0, metavar="T", help="judge sampling (0: greedy)"
    )
    judge.add_argument("--ctx", type=int, default=4096, metavar="N", help="context window (4096)")
    judge.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: all cores)")
    judge.set_defaults(handler=cmd_judge)


def cmd_arena(args: argparse.Namespace) -> int:
    """`duel arena` with no subcommand: the TUI, opened on the arena (battling at once with --pool)."""
    from pydantic import ValidationError

    from benchmarks.arena.battle import check_pool_refs, parse_pool
    from models.errors import DuelError
    from tui.app_main import run_app
    from tui.chat_state import PaneSettings
    from tui.commands.options import weights_choice
    from tui.screens.arena_setup import ArenaSetup

    pool: tuple[str, ...] = ()
    if args.arena_pool is not None:
        pool = parse_pool(args.arena_pool)
        check_pool_refs(pool)  # a typo is one line here, not a battle whose Model A cannot load
    try:
        settings = PaneSettings(
            max_tokens=args.arena_max_tokens,
            temperature=args.arena_temperature,
            weights=weights_choice(args),  # --weights, else config.toml, else auto: as the chat loads
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DuelError(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None
    return run_app(args, start_section="arena", arena=ArenaSetup(pool, settings))


def cmd_export(args: argparse.Namespace) -> int:
    import sys

    from benchmarks.arena.lmsys import export_lines
    from benchmarks.arena.store import ArenaStore, check_voter

    if args.voter != "all":
        check_voter(args.voter)
    with ArenaStore() as store:
        battles = store.battles(args.voter)
    if args.output is None:
        sys.stdout.writelines(export_lines(battles))
        return 0
    path = args.output.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(export_lines(battles))
    print(f"wrote {len(battles)} battles ({args.voter} votes) to {path}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from benchmarks.arena.lmsys import import_file

    added, skipped = import_file(args.file.expanduser(), as_judge=args.as_judge)
    note = f"; {skipped} already imported, skipped" if skipped else ""
    print(f"imported {added} battles from {args.file}{note}")
    return 0


def _spread(prompts: list[Any], limit: int | None) -> list[Any]:
    """The first `limit` prompts taking one category after another, so a small run stays varied."""
    if limit is None or limit >= len(prompts):
        return prompts
    by_category: dict[str, list[Any]] = {}
    for prompt in prompts:
        by_category.setdefault(prompt.category, []).append(prompt)
    interleaved = []
    for index in range(max(len(v) for v in by_category.values())):
        interleaved += [group[index] for group in by_category.values() if index < len(group)]
    return interleaved[:limit]


def cmd_judge(args: argparse.Namespace) -> int:
    from rich.console import Console

    from benchmarks.arena.battle import parse_pool
    from benchmarks.arena.judge_run import JudgeRequest, JudgeRun
    from benchmarks.arena.prompts import load_prompts
    from tui.commands.cli_support import StopFlag, require_at_least

    require_at_least(
        ("--limit", args.limit, 1),
        ("--rounds", args.rounds, 1),
        ("--seeds", args.seeds, 1),
        ("--max-tokens", args.max_tokens, 1),
        ("--judge-max-tokens", args.judge_max_tokens, 1),
        ("--ctx", args.ctx, 256),
        ("--threads", args.threads, 1),
    )
    request = JudgeRequest(
        judge=args.judge,
        pool=parse_pool(args.pool),
        prompts=tuple(_spread(load_prompts(args.prompts), args.limit)),
        rounds=args.rounds,
        seeds=tuple(range(args.seed, args.seed + args.seeds)),
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        judge_max_tokens=args.judge_max_tokens,
        judge_temperature=args.judge_temperature,
        n_ctx=args.ctx,
        threads=args.threads,
    )
    console = Console()
    stop_flag = StopFlag("\nstopping after the answer in flight (Ctrl-C again to abort)...")
    with stop_flag as stop, _JudgeProgress(console) as view:
        summary = JudgeRun(request, on_event=view.handle, should_stop=stop).run()
    print_judge_summary(console, summary)
    return 130 if summary.stopped else 0


class _JudgeProgress:
    """Progress bars for the answers of each contestant and for the judging."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.tasks: dict[str, tuple[Any, str]] = {}  # role -> (task id, label) of the model in use

    def __enter__(self) -> _JudgeProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def handle(self, event: Any) -> None:
        from benchmarks.arena import judge_run as jr

        p = self.progress
        if isinstance(event, jr.Notice):
            p.console.print(f"note: {event.text}", highlight=False)
        elif isinstance(event, jr.Loading):
            label = "judging with" if event.role == "judge" else "answers of"
            self.tasks[event.role] = (p.add_task(f"loading {event.ref}…", total=None), f"{label} {event.ref}")
        elif isinstance(event, jr.Answered | jr.Judged):
            task, label = self.tasks["judge" if isinstance(event, jr.Judged) else "contestant"]
            p.update(task, description=label, completed=event.done, total=event.total)


def print_judge_summary(console: Any, summary: JudgeSummary) -> None:
    from tui.commands.cli_table import Column, print_table

    console.print(f"votes stored as {summary.voter}", highlight=False)
    if summary.per_seed:
        columns = (
            Column("model", "ident"),
            Column("rating", "keep", justify="right"),
            Column("± sd", "keep", justify="right"),
            Column("seeds", "keep", justify="right", drop=1),
        )
        rows = [
            [model, f"{mean:.0f}", "-" if sd is None else f"{sd:.0f}", str(n)]
            for model, mean, sd, n in summary.table()
        ]
        title = f"Judge ratings, mean ± sd over {len(summary.per_seed)} seeds"
        print_table(console, columns, rows, title=title, more="the leaderboard has intervals")
    console.print(
        f"{summary.battles} of {summary.planned} battles judged: {summary.votes} votes "
        f"({summary.disagreements} ties because the two orders disagreed), "
        f"{summary.no_verdict} without a readable verdict (left out)",
        highlight=False,
    )
    if summary.decisive_verdicts:
        share = summary.first_picks / summary.decisive_verdicts
        console.print(
            f"the judge chose the answer shown first in {share:.0%} of its {summary.decisive_verdicts} "
            "one-order verdicts (judging both orders cancels this)",
            highlight=False,
        )
    if summary.stopped:
        console.print("stopped: the battles judged so far are stored")
    console.print(f"leaderboard with intervals: duel leaderboard --voter '{summary.voter}'", highlight=False)
