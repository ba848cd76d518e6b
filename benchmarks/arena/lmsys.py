"""Battles in the LMSYS / FastChat battle format, so duel and FastChat's scripts can read each other's votes.

One JSON object per line (FastChat's clean_battle records; a JSON array of them is read too):
  model_a, model_b          the model shown on the left (A) and on the right (B)
  winner                    "model_a" | "model_b" | "tie" | "tie (bothbad)"
  conversation_a, _b        OpenAI-style message lists [{"role": "user", "content": ...}, ...]
  tstamp                    vote time, float seconds since the epoch
  judge                     who voted (FastChat keeps a user or judge id here)
Other fields (question_id, turn, anony, language...) are kept on import and written back on export.
duel adds a `duel` object (voter, settings, sha256 and per-answer stats) that FastChat ignores and a
later `duel arena import` restores, so duel -> duel round trips lose nothing.

Who voted: a `judge` value of the form `judge:NAME` (what duel writes for its judges) is a judge's
vote; any other value (FastChat's `arena_user_...`, `author_0`...) is a human vote and is kept as the
voter id. `--as-judge NAME` marks every vote of a file as `judge:NAME` instead (e.g. MT-Bench's
`gpt4_pair` judgments). Import is all or nothing: the first malformed record stops it with its line
number and nothing from that file is stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.arena.store import (
    HUMAN,
    JUDGE_PREFIX,
    ArenaError,
    ArenaStore,
    BattleRecord,
    check_conversation,
    check_voter,
)

WINNERS = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "bothbad"}
VOTE_TO_WINNER = {vote: winner for winner, vote in WINNERS.items()}
CORE_FIELDS = ("model_a", "model_b", "winner", "judge", "conversation_a", "conversation_b", "tstamp")


class MalformedBattleError(ArenaError):
    """A record of an import file that is not a valid battle (names file:line)."""


# --------------------------------------------------------------------------------------------- export


def to_lmsys(battle: BattleRecord) -> dict[str, Any]:
    """One voted battle as a FastChat clean_battle record."""
    if battle.vote is None:
        raise ArenaError(f"battle {battle.id} has no vote to export")
    detail = dict(battle.detail or {})
    extra = dict(detail.pop("lmsys", {}))  # fields of an imported record, written back as found
    record: dict[str, Any] = {"question_id": battle.uid, "turn": battle.turns, "anony": True}
    record.update(extra)
    record.update(
        {
            "model_a": battle.model_a,
            "model_b": battle.model_b,
            "winner": VOTE_TO_WINNER[battle.vote],
            "judge": battle.voter_id or battle.voter,
            "conversation_a": list(battle.conversation_a),
            "conversation_b": list(battle.conversation_b),
            "tstamp": battle.tstamp,
        }
    )
    record["duel"] = {
        "uid": battle.uid,
        "voter": battle.voter,
        "source": battle.source,
        "session": battle.session,
        "created_at": battle.created_at,
        "settings": dict(battle.settings),
        "sha256_a": battle.sha256_a,
        "sha256_b": battle.sha256_b,
        "stats_a": list(battle.stats_a),
        "stats_b": list(battle.stats_b),
        "detail": detail or None,
    }
    return record


def export_lines(battles: Sequence[BattleRecord]) -> Iterator[str]:
    for battle in battles:
        if battle.vote is not None:
            yield json.dumps(to_lmsys(battle), ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------- import


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, object) for each record of a JSONL file or of a JSON array file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArenaError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArenaError(f"cannot read {path}: {exc}") from None
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MalformedBattleError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
        for index, item in enumerate(items, start=1):
            yield f"{path}: item {index}", item
        return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{lineno}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise MalformedBattleError(f"{path}:{lineno}: malformed JSON ({exc.msg})") from None


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        found = "missing" if key not in obj else f"got {json.dumps(value)[:40]}"
        raise MalformedBattleError(f"{where}: '{key}' must be a non-empty string ({found})")
    return value


def _uid(obj: Mapping[str, Any]) -> str:
    """Stable id of a foreign record, so importing the same file twice adds nothing the second time."""
    core = {k: obj.get(k) for k in CORE_FIELDS}
    return "lmsys-" + hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:32]


def _turns(conversation: Sequence[Mapping[str, str]]) -> int:
    return sum(1 for m in conversation if m["role"] == "user")


def _voter(judge: str | None, duel_voter: Any, as_judge: str | None) -> str:
    if as_judge:
        return check_voter(JUDGE_PREFIX + as_judge)
    if isinstance(duel_voter, str):
        return check_voter(duel_voter)
    if judge and judge.startswith(JUDGE_PREFIX) and judge[len(JUDGE_PREFIX) :].strip():
        return judge
    return HUMAN


def from_lmsys(
    obj: Any, where: str, *, as_judge: str | None = None, session: str | None = None
) -> BattleRecord:
    """One record as a voted battle; MalformedBattleError naming `where` if it is not valid."""
    if not isinstance(obj, dict):
        raise MalformedBattleError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    model_a, model_b = _text(obj, "model_a", where), _text(obj, "model_b", where)
    if model_a == model_b:
        raise MalformedBattleError(f"{where}: model_a and model_b are the same model ('{model_a}')")
    winner = obj.get("winner")
    if winner not in WINNERS:
        allowed = " | ".join(WINNERS)
        raise MalformedBattleError(f"{where}: 'winner' must be {allowed}, got {json.dumps(winner)}")
    tstamp = obj.get("tstamp")
    if isinstance(tstamp, bool) or not isinstance(tstamp, int | float):
        raise MalformedBattleError(f"{where}: 'tstamp' must be a number of seconds, got {json.dumps(tstamp)}")
    judge = obj.get("judge")
    if judge is not None and not isinstance(judge, str):
        raise MalformedBattleError(f"{where}: 'judge' must be a string, got {json.dumps(judge)}")
    conversations = []
    for key in ("conversation_a", "conversation_b"):
        try:
            conversations.append(check_conversation(obj.get(key, []), key))
        except ArenaError as exc:
            raise MalformedBattleError(f"{where}: {exc}") from None
    ours = obj.get("duel") if isinstance(obj.get("duel"), dict) else {}
    try:
        voter = _voter(judge, ours.get("voter"), as_judge)
    except ArenaError as exc:
        raise MalformedBattleError(f"{where}: {exc}") from None
    extra = {k: v for k, v in obj.items() if k not in CORE_FIELDS and k != "duel"}
    if ours:  # what duel's own export adds is written again on the next export
        for key, value in (
            ("question_id", ours.get("uid")),
            ("turn", _turns(conversations[0])),
            ("anony", True),
        ):
            if extra.get(key) == value:
                extra.pop(key)
    detail = dict(ours.get("detail") or {})
    if extra:
        detail["lmsys"] = extra
    return BattleRecord(
        model_a=model_a,
        model_b=model_b,
        settings=ours.get("settings") or {},
        conversation_a=conversations[0],
        conversation_b=conversations[1],
        stats_a=ours.get("stats_a") or [],
        stats_b=ours.get("stats_b") or [],
        sha256_a=ours.get("sha256_a"),
        sha256_b=ours.get("sha256_b"),
        source="import",
        session=session,
        status="voted",
        vote=WINNERS[winner],
        voter=voter,
        voter_id=judge,
        tstamp=float(tstamp),
        detail=detail or None,
        uid=str(ours.get("uid") or _uid(obj)),
        created_at=str(ours.get("created_at") or ""),
    )


def read_battles(
    path: Path, *, as_judge: str | None = None, session: str | None = None
) -> list[BattleRecord]:
    """Every record of the file, validated; the first bad one raises with its line number."""
    battles = [from_lmsys(obj, where, as_judge=as_judge, session=session) for where, obj in _records(path)]
    if not battles:
        raise ArenaError(f"{path}: no battles in the file")
    return battles


def import_file(
    path: Path, *, as_judge: str | None = None, store: ArenaStore | None = None
) -> tuple[int, int]:
    """Validate the whole file, then store it in one transaction. Returns (added, already present)."""
    from benchmarks.arena.store import now_iso

    battles = read_battles(path, as_judge=as_judge, session=f"import:{path.name}:{now_iso()}")
    own = store is None
    store = store or ArenaStore()
    try:
        return store.import_battles(battles)
    finally:
        if own:
            store.close()
