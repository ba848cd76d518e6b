"""`duel` with no subcommand: which pair it opens on, and how the pair is remembered."""

from __future__ import annotations

import argparse

import pytest

from models.config import load_config
from models.paths import config_file
from models.resolve import DEFAULT_PAIR
from tui.app_main import choose_pair, remember_pair


def test_default_pair_then_remembered_pair_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUEL_LEFT", raising=False)
    monkeypatch.delenv("DUEL_RIGHT", raising=False)
    args = argparse.Namespace()
    assert choose_pair(args) == DEFAULT_PAIR
    remember_pair("scripted:a", "scripted:b")
    assert choose_pair(args) == ("scripted:a", "scripted:b")
    monkeypatch.setenv("DUEL_RIGHT", "scripted:c")
    assert choose_pair(args) == ("scripted:a", "scripted:c")
    assert choose_pair(argparse.Namespace(left="x", right=None)) == ("x", "scripted:c")


def test_remember_pair_keeps_the_side_that_did_not_load() -> None:
    remember_pair("scripted:a", "scripted:b")
    remember_pair(None, "scripted:z")
    chat = load_config().chat
    assert (chat.left, chat.right) == ("scripted:a", "scripted:z")
    before = config_file().stat().st_mtime_ns
    remember_pair("scripted:a", None)  # nothing new: the file is not rewritten
    assert config_file().stat().st_mtime_ns == before


def test_left_and_right_flags_reach_the_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.cli import build_parser

    monkeypatch.delenv("DUEL_LEFT", raising=False)
    monkeypatch.delenv("DUEL_RIGHT", raising=False)
    args = build_parser().parse_args(["--left", "scripted:l", "--right", "scripted:r"])
    assert args.command is None
    assert choose_pair(args) == ("scripted:l", "scripted:r")
