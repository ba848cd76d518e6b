"""The `duel` command: the TUI with no arguments, headless subcommands otherwise.

Errors are handled here, once: a `DuelError` (bad input) is one line on stderr and exit 2; anything
else is exit 1 with a hint to rerun with --debug, which shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from models.errors import DuelError
from tui.commands import COMMAND_MODULES
from tui.commands.options import add_weights_option

EPILOG = """examples:
  duel                                   open the side-by-side chat (bundled models)
  duel --left qwen2.5-coder-0.5b --right ./Llama-3.2-1B-Q4_K_M.gguf
  duel chat "Explain a hash map in two sentences."
  duel doctor                            what duel sees on this machine (paste it into bug reports)
  duel models                            list bundled and registered models
  duel bench sentiment -m qwen2.5-coder-0.5b -m smollm2-135m --limit 40
  duel scorecard last --format md -o card.md
  duel recommend --task classify --max-memory 1   which model to use, from what duel measured here
  duel arena judge --judge MODEL --pool A,B,C
  duel leaderboard                       ratings from the arena votes, with 95% intervals
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="duel",
        description="Two local GGUF models side by side: chat, benchmark, compare.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    parser.add_argument("--left", metavar="REF", help="model of the left chat pane (default: the last pair)")
    parser.add_argument("--right", metavar="REF", help="model of the right chat pane")
    add_weights_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from tui.app_main import run_app

            return run_app(args)
        return int(args.handler(args) or 0)
    except DuelError as exc:
        print(f"duel: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("duel: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`duel arena export | head`): not an error. Point stdout at /dev/null
        # so flushing it at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # the one place unexpected failures are reported
        if args.debug:
            raise
        print(f"duel: unexpected error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
