"""llama-cpp-python's OpenAI-compatible server, loading its models the way duel does.

    python -m engines.llama_server [--weights auto|all|no-amx|plain] --model FILE.gguf [server options]

Everything but `--weights` goes to `python -m llama_cpp.server` unchanged (`--help` shows its
options). Started bare, that server loads with llama.cpp's default weight placement, which crashes
on AMX CPUs at the first prompt (see engines/weights.py); here the same choice as the rest of duel
applies to every model the server loads, and the first line on stderr says which and why.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engines.weights import apply_to_process, choose, configured_choice
from models.errors import DuelError
from models.weights_choice import WEIGHT_CHOICES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)  # --help belongs to llama_cpp.server
    parser.add_argument("--weights", choices=WEIGHT_CHOICES, default=None)
    known, rest = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    try:
        choice, source = configured_choice(known.weights)
        placement = apply_to_process(choose(choice))
    except DuelError as exc:
        print(f"duel: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"duel: weights {placement.summary()} (from {source})", file=sys.stderr, flush=True)
    from llama_cpp.server.__main__ import main as serve  # needs the `server` extra

    sys.argv = [f"{sys.argv[0]} (llama_cpp.server)", *rest]  # the server reads its options there
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
