"""Token bytes become shown text: whole characters only, stop strings cut, nothing lost at the end."""

from __future__ import annotations

from engines.llama_cpp_engine import ReplyText


def _feed_all(reply: ReplyText, pieces: list[bytes]) -> list[str]:
    return [reply.feed(p) for p in pieces] + [reply.flush()]


def test_character_split_across_tokens_is_held_until_whole() -> None:
    fox = "🦊".encode()  # 4 bytes, as a byte-level BPE may emit them one token at a time
    pieces = [b"A ", fox[:1], fox[1:3], fox[3:], " 日本".encode()[:2], " 日本".encode()[2:]]
    shown = _feed_all(ReplyText(), pieces)
    assert "".join(shown) == "A 🦊 日本"
    assert all("\ufffd" not in s for s in shown)
    assert shown[1:3] == ["", ""]  # nothing shown while the fox is incomplete


def test_stop_string_is_cut_with_everything_after_it() -> None:
    reply = ReplyText(stops=("END",))
    shown = _feed_all(reply, [b"one two E", b"N", b"D three"])
    assert "".join(shown) == "one two "
    assert reply.stopped


def test_possible_stop_prefix_is_released_when_it_turns_out_not_to_be_one() -> None:
    reply = ReplyText(stops=("<|im_end|>",))
    assert reply.feed(b"a <|im") == "a "
    assert reply.feed(b"ag") == "<|imag"
    assert reply.feed(b"e <") == "e "
    assert reply.flush() == "<"
    assert not reply.stopped


def test_leading_space_of_sentencepiece_reply_is_dropped_once() -> None:
    reply = ReplyText(strip_leading_space=True)
    assert reply.feed(b" Hello") == "Hello"
    assert reply.feed(b" world") == " world"


def test_incomplete_character_at_the_end_is_shown_as_replacement() -> None:
    # A reply cut by max_tokens in the middle of a character must not lose the bytes silently.
    assert "".join(_feed_all(ReplyText(), [b"ok ", "é".encode()[:1]])) == "ok \ufffd"
