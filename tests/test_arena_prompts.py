"""The built-in arena prompt set and users' prompt files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.arena.prompts import CATEGORIES, builtin_prompts, load_prompts
from benchmarks.arena.store import ArenaError
from tui.commands.arena_cmd import _spread


def test_builtin_set_is_40_unique_prompts_balanced_over_5_categories() -> None:
    prompts = builtin_prompts()
    assert len(prompts) == 40
    assert Counter(p.category for p in prompts) == dict.fromkeys(CATEGORIES, 8)
    assert len({p.id for p in prompts}) == 40
    normalised = {" ".join(p.text.lower().split()) for p in prompts}
    assert len(normalised) == 40  # no duplicate text, not even up to case and spacing
    assert all(len(p.text) >= 20 and p.text == p.text.strip() for p in prompts)
    assert all(p.id.startswith(p.category + "-") for p in prompts)
    assert load_prompts("builtin") == prompts


def test_limit_spreads_over_the_categories() -> None:
    picked = _spread(builtin_prompts(), 5)
    assert sorted(p.category for p in picked) == sorted(CATEGORIES)


def test_user_files_jsonl_and_text(tmp_path: Path) -> None:
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text('{"id": "x1", "prompt": "Say hi."}\n\n{"text": "Count to 3."}\n', encoding="utf-8")
    assert [(p.id, p.text) for p in load_prompts(str(jsonl))] == [
        ("x1", "Say hi."),
        ("line-3", "Count to 3."),
    ]
    text = tmp_path / "mine.txt"
    text.write_text("First prompt\n\n  Second prompt  \n", encoding="utf-8")
    assert [p.text for p in load_prompts(str(text))] == ["First prompt", "Second prompt"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a"}\n', "needs a non-empty 'prompt'"),
        ("{oops\n", "malformed JSON"),
        ('{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n', "more than once"),
        ("", "no prompts"),
    ],
)
def test_bad_prompt_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ArenaError, match=message):
        load_prompts(str(path))
    with pytest.raises(ArenaError, match="no such prompts file"):
        load_prompts(str(tmp_path / "missing.jsonl"))
