"""A model as the voter: the fixed pairwise prompt, reading its verdict, and both answer orders.

The judge sees the question and two answers labelled "Answer A" and "Answer B" and ends with one
verdict token: [[A]], [[B]] or [[C]] (equally good or equally bad). Each battle is judged twice,
with the answers in both orders; the two verdicts, mapped back to the models, must agree, and a
disagreement counts as a tie. This cancels a judge's preference for the first (or second) place.
A verdict that cannot be read in either order leaves the battle without a vote ("no verdict"):
it is stored with the judge's raw text and counted, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engines.base import Message

JUDGE_SYSTEM = (
    "You review answers written by AI assistants. Decide which of two answers helps the person who "
    "asked more: is it correct, does it do what was asked, is it clear, and complete without padding? "
    "The order of the answers and their length say nothing about their quality, so give them no weight."
)
# After the answers, where small models still read it (with it only in the system message, the
# bundled Qwen2.5-0.5B copied the instruction line instead of judging).
JUDGE_ASK = (
    "Which answer is better? Give your reasons in one or two sentences, then end with your verdict: "
    "[[A]] if Answer A is better, [[B]] if Answer B is better, or [[C]] for a tie."
)

_TOKEN = re.compile(r"\[\[\s*([ABC])\s*\]\]", re.IGNORECASE)
# Fallbacks for judges that do not copy the token format exactly (small local models often do not).
_FALLBACKS = (
    re.compile(r"\bverdict\b\W{0,3}(?:is\W{0,3})?(?:answer\s+)?\[?\s*([ABC])\b", re.IGNORECASE),
    re.compile(r"^\W*\[?\s*([ABC])\s*\]?\W*$"),  # the last line is only the letter
)
_BETTER = re.compile(r"\banswer\s+([AB])\s+is\s+better\b", re.IGNORECASE)


def judge_messages(question: str, first: str, second: str) -> list[Message]:
    """The judge's conversation for one order: `first` is shown as Answer A."""
    user = (
        f"[Question]\n{question.strip()}\n\n"
        f"[Answer A]\n{first.strip()}\n[End of Answer A]\n\n"
        f"[Answer B]\n{second.strip()}\n[End of Answer B]\n\n{JUDGE_ASK}"
    )
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def parse_verdict(text: str) -> str | None:
    """ "A", "B" or "C" (tie) from a judge's reply; None when it cannot be told.

    Lines holding all three tokens are the instructions copied back, not a verdict, and are dropped.
    Then the [[X]] tokens count first. Several different tokens are read only if the last line that
    holds a token holds just one kind; otherwise the reply is ambiguous. Without tokens: "verdict: A",
    a last line that is only a letter, or exactly one "Answer X is better".
    """
    kept = [line for line in text.splitlines() if len({t.upper() for t in _TOKEN.findall(line)}) < 3]
    text = "\n".join(kept)
    tokens = [t.upper() for t in _TOKEN.findall(text)]
    if tokens:
        if len(set(tokens)) == 1:
            return tokens[0]
        for line in reversed(text.strip().splitlines()):
            found = {t.upper() for t in _TOKEN.findall(line)}
            if found:
                return found.pop() if len(found) == 1 else None
        return None  # pragma: no cover - a token is always on some line
    lines = [line for line in text.strip().splitlines() if line.strip()]
    verdicts = [m.upper() for m in _FALLBACKS[0].findall(text)]
    if verdicts and len(set(verdicts)) == 1:
        return verdicts[0]
    if lines and (last := _FALLBACKS[1].match(lines[-1])):
        return last.group(1).upper()
    better = {m.upper() for m in _BETTER.findall(text)}
    return better.pop() if len(better) == 1 else None


@dataclass(frozen=True)
class Judgement:
    """Both orders of one battle, in the battle's terms (side a was Model A)."""

    first: str | None  # verdict with a's answer shown first: A (a better), B, C or None
    second: str | None  # verdict with b's answer shown first
    raw_first: str
    raw_second: str

    @property
    def side_votes(self) -> tuple[str | None, str | None]:
        """Each order's verdict mapped to the battle's sides: a, b, tie or None."""
        one = {"A": "a", "B": "b", "C": "tie"}.get(self.first or "")
        two = {"A": "b", "B": "a", "C": "tie"}.get(self.second or "")
        return one, two

    @property
    def outcome(self) -> str | None:
        """a, b or tie; None when either order gave no readable verdict."""
        one, two = self.side_votes
        if one is None or two is None:
            return None
        return one if one == two else "tie"

    @property
    def consistent(self) -> bool:
        one, two = self.side_votes
        return one is not None and one == two

    def to_json(self) -> dict[str, object]:
        return {
            "order_a_first": {"verdict": self.first, "raw": self.raw_first},
            "order_b_first": {"verdict": self.second, "raw": self.raw_second},
            "consistent": self.consistent,
            "outcome": self.outcome,
        }
