"""The app's pair of models (tui/pair.py) without the UI: switching, failures, thread shares, closing."""

from __future__ import annotations

import threading

import pytest
from tui_support import Opener

from engines.base import EngineError, LoadOptions
from tui.chat_state import PaneSettings
from tui.pair import ModelPair

OPTIONS = LoadOptions(n_ctx=512)


def test_a_switch_frees_the_old_model_before_opening_the_new_one() -> None:
    opener = Opener()
    pair = ModelPair("scripted:a", "scripted:b", open_engine=opener, threads=(1, 1))
    first = pair.switch("left", "scripted:a", OPTIONS)
    second = pair.switch("left", "scripted:c", OPTIONS)
    assert first is not None and first.closed
    assert second is not None and not second.closed
    assert pair.slot("left").engine is second and pair.ref("left") == "scripted:c"
    assert [ref for ref, _, _ in opener.opened] == ["scripted:a", "scripted:c"]


def test_a_failed_switch_raises_and_leaves_its_reason_for_waiting_prompts() -> None:
    pair = ModelPair("scripted:a", "scripted:b", open_engine=Opener(), threads=(1, 1))
    with pytest.raises(EngineError, match="scripted load failure"):
        pair.switch("right", "scripted:bad?fail=load", OPTIONS)
    slot = pair.slot("right")
    assert slot.engine is None and "scripted:bad?fail=load failed to load" in (slot.failure or "")


def test_a_stopped_switch_keeps_no_engine() -> None:
    opener = Opener()
    pair = ModelPair("scripted:a", "scripted:b", open_engine=opener, threads=(1, 1))
    assert pair.switch("left", "scripted:a", OPTIONS, should_stop=lambda: True) is None
    assert pair.slot("left").engine is None
    assert all(engine.closed for _, _, engine in opener.opened)  # nothing opened stays open


def test_thread_shares_and_a_single_model_pair() -> None:
    two = ModelPair("scripted:a", "scripted:b", total_threads=4)
    assert (two.threads("left"), two.threads("right")) == (2, 2)
    one = ModelPair("scripted:a", total_threads=4)  # `duel chat -m A`
    assert one.sides == ("left",) and one.threads("left") == 4


def test_only_models_that_loaded_are_remembered() -> None:
    remembered: list[tuple[str | None, str | None]] = []
    pair = ModelPair("scripted:a", "scripted:b", remember=lambda a, b: remembered.append((a, b)))
    pair.model_loaded("right", "scripted:b")
    pair.model_loaded("left", "scripted:z")
    assert remembered == [(None, "scripted:b"), ("scripted:z", "scripted:b")]


def test_settings_belong_to_the_pair() -> None:
    pair = ModelPair("scripted:a", "scripted:b", settings=(PaneSettings(n_ctx=8192), PaneSettings()))
    pair.set_settings("right", PaneSettings(temperature=0.0))
    assert pair.settings("left").n_ctx == 8192 and pair.settings("right").temperature == 0.0


def test_close_waits_for_the_engine_to_be_free_and_can_give_up() -> None:
    pair = ModelPair("scripted:a", "scripted:b", open_engine=Opener(), threads=(1, 1))
    engine = pair.switch("left", "scripted:a", OPTIONS)
    in_use, done = threading.Event(), threading.Event()

    def generate() -> None:  # a generation holding the engine
        with pair.slot("left").hold():
            in_use.set()
            done.wait(10)

    user = threading.Thread(target=generate)
    user.start()
    assert in_use.wait(5)
    assert pair.close(should_stop=lambda: True) is False  # gave up waiting: nothing freed under it
    assert engine is not None and not engine.closed and not pair.closed.is_set()
    closer = pair.close_in_background()
    done.set()
    user.join(5)
    closer.join(5)
    assert engine.closed and pair.closed.is_set()


def test_the_sides_generating_share_the_threads_and_a_finished_side_hands_its_own_over() -> None:
    pair = ModelPair("scripted:a", "scripted:b", open_engine=Opener(), threads=(2, 1))  # 3 in all
    left, right = (pair.switch(side, f"scripted:{side}", OPTIONS) for side in ("left", "right"))
    assert left is not None and right is not None and (left.threads, right.threads) == (2, 1)

    pair.begin_generating("left", "right")
    assert (left.threads, right.threads) == (2, 1)
    pair.end_generating("left")
    assert right.threads == 3, "the side still answering gets the finished side's threads"
    pair.end_generating("right")

    with pair.generating("right"):  # alone: every thread, the idle side's too
        assert right.threads == 3
        with pair.generating("left"):
            assert (left.threads, right.threads) == (2, 1)
        assert right.threads == 3


def test_a_single_model_keeps_every_thread() -> None:
    pair = ModelPair("scripted:a", open_engine=Opener(), total_threads=4)
    engine = pair.switch("left", "scripted:a", OPTIONS)
    assert engine is not None
    with pair.generating("left"):
        assert engine.threads == 4
