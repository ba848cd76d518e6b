"""Every table the `duel` command prints, at 80 and 60 columns and through a pipe: the names a user
must type (models, hf: references, suites, runs, hub repos) appear whole on one line; the other
columns wrap or drop out in the documented order; `--json` is there for every listing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from gguf_builders import write_gguf

from models.paths import results_db_file
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
LONG_SUITE = "heldout-airline-sentiment-tweets-2015-tst"  # 41 characters
HF_LONG = "hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf"
HF_QUANT = "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M"
LONG_MODEL = "llama-3.2-1b-instruct-abliterated-q4-k-m"  # 40 characters, a valid registry name
WIDTHS = (80, 60)


def width_of(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line.rstrip())


def assert_whole(out: str, names: list[str]) -> None:
    """Each name on one line of `out`, in full."""
    lines = out.splitlines()
    for name in names:
        assert any(name in line for line in lines), f"{name!r} is not whole on any line:\n{out}"


def assert_rows_start_with(out: str, names: list[str]) -> None:
    """Each name whole at the start of a line: a table row (not a sentence that mentions it)."""
    for name in names:
        assert any(line.startswith(f"{name} ") for line in out.splitlines()), f"no row of {name!r}:\n{out}"


def assert_fits(out: str, width: int) -> None:
    too_wide = [line for line in out.splitlines() if width_of(line) > width]
    assert not too_wide, f"lines wider than {width}:\n" + "\n".join(too_wide)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.fixture
def columns(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Set the terminal width rich sees (it reads $COLUMNS where the commands create their Console)."""

    def set_width(width: int) -> None:
        monkeypatch.setenv("COLUMNS", str(width))

    return set_width


def import_suite(tmp_path: Path, name: str) -> None:
    csv = tmp_path / f"{name}.csv"
    pd.DataFrame(
        {
            "text": ["good", "bad", "meh", "great", "awful", "fine"],
            "airline_sentiment": ["positive", "negative", "neutral", "positive", "negative", "neutral"],
        }
    ).to_csv(csv, index=False)
    assert main(["suites", "import", str(csv), "--as", name, "--task", "classify"]) == 0


def rename_models(run_id: int, names: dict[str, str]) -> None:
    """Give the models of a stored run other references (hf: ones, which need no engine to list)."""
    with sqlite3.connect(results_db_file()) as conn:
        for old, new in names.items():
            for table in ("run_models", "run_items"):
                conn.execute(f"UPDATE {table} SET model_ref = ? WHERE model_ref = ? AND run_id = ?",
                             (new, old, run_id))
        (config,) = conn.execute("SELECT config FROM runs WHERE id = ?", (run_id,)).fetchone()
        data = json.loads(config)
        data["models"] = [names.get(m, m) for m in data["models"]]
        conn.execute("UPDATE runs SET config = ? WHERE id = ?", (json.dumps(data), run_id))


@pytest.fixture
def hf_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> int:
    """A finished run of two hf: models on the built-in sentiment suite and a 41-character one."""
    import_suite(tmp_path, LONG_SUITE)
    argv = ["bench", "sentiment", LONG_SUITE, "-m", "scripted:a", "-m", "scripted:b", "--limit", "3"]
    assert main(argv) == 0
    capsys.readouterr()
    rename_models(1, {"scripted:a": HF_LONG, "scripted:b": HF_QUANT})
    return 1


# ----- the helper itself ----------------------------------------------------------------------------


def test_names_in_a_list_cell_break_between_names_only() -> None:
    from tui.commands.cli_table import pack_names

    names = ["qwen2.5-coder-0.5b", "smollm2-135m", "sentiment"]
    assert pack_names(names, 80) == "qwen2.5-coder-0.5b, smollm2-135m, sentiment"
    for width in range(19, 45):
        lines = pack_names(names, width).splitlines()
        assert all(width_of(line) <= width for line in lines)
        assert [n.strip() for line in lines for n in line.split(",") if n.strip()] == names


def test_columns_drop_in_their_rank_order_and_names_keep_their_width() -> None:
    from tui.commands.cli_table import Column, layout

    cols = (
        Column("name", "ident"),
        Column("a", "keep", drop=2),
        Column("b", "keep", drop=1),
        Column("note", min_width=6),
        Column("c", "keep", drop=3),
    )
    rows = [[LONG_MODEL, "aaaaaaaa", "bbbbbbbb", "a description that folds", "cccccccc"]]
    wide = layout(cols, rows, 120)
    assert wide.dropped == () and wide.widths[0] == len(LONG_MODEL)
    dropped_in_turn = [layout(cols, rows, width).dropped for width in range(90, 40, -1)]
    # Listed in the order they went, and they go in rank order: b, then a, then c; "note" never.
    assert list(dict.fromkeys(dropped_in_turn)) == [(), ("b",), ("b", "a"), ("b", "a", "c")]
    for width in range(90, 40, -1):
        lay = layout(cols, rows, width)
        assert lay.widths[0] == len(LONG_MODEL)
        assert lay.width <= max(width, len(LONG_MODEL) + 6 + 3)  # wider only for the name itself


def test_descriptions_fold_or_end_in_an_ellipsis_while_the_name_stays_whole() -> None:
    import io

    from rich.console import Console

    from tui.commands.cli_table import Column, print_table

    description = "imported from a very long file name of airline posts.csv with notes"
    for kind in ("fold", "ellipsis"):
        out = io.StringIO()
        print_table(Console(file=out, width=60), (Column("suite", "ident"), Column("source", kind)),
                    [[LONG_SUITE, description]])
        text = out.getvalue()
        assert_rows_start_with(text, [LONG_SUITE])
        assert_fits(text, 60)
        row = text.splitlines()[2:]
        if kind == "ellipsis":
            assert len(row) == 1 and row[0].rstrip().endswith("…")
        else:
            assert " ".join(" ".join(line.split()[1:] if i == 0 else line.split()) for i, line in
                            enumerate(row)) == description


def test_a_name_wider_than_the_terminal_widens_the_table_instead_of_being_cut() -> None:
    import io

    from rich.console import Console

    from tui.commands.cli_table import Column, print_table

    out = io.StringIO()
    console = Console(file=out, width=40)
    print_table(console, (Column("model", "ident"), Column("score", "keep")), [[HF_LONG, "0.5"]])
    assert_whole(out.getvalue(), [HF_LONG])
    assert console.width == 40  # the console is left as it was


# ----- every CLI table, at 80 and 60 columns --------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_suites(width: int, tmp_path: Path, columns, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    names = ["heldout-airline", "heldout-gsm8k", LONG_SUITE]
    for name in names:
        import_suite(tmp_path, name)
    columns(width)
    out = run_cli(["suites"], capsys)
    assert_rows_start_with(out, [*names, "sentiment", "knowledge", "summarize", "math"])
    assert "…" not in out
    assert_fits(out, width)
    assert "not shown at this width: version" in out  # the first to go


@pytest.mark.parametrize("width", WIDTHS)
def test_models(width: int, tmp_path: Path, columns, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    gguf = write_gguf(tmp_path / "m.gguf", arch="llama", name="Llama 3.2 1B")
    assert main(["models", "add", str(gguf), "--name", LONG_MODEL]) == 0
    columns(width)
    out = run_cli(["models"], capsys)
    assert_rows_start_with(out, ["qwen2.5-coder-0.5b", "smollm2-135m", LONG_MODEL])
    assert_fits(out, width)
    header = next(line for line in out.splitlines() if line.startswith("name"))
    assert "params" in header and "quant" in header  # the last to go
    # They go in the documented order (`duel models --help`).
    note = " ".join(out[out.index("not shown at this width: ") :].split())
    assert "template, ctx, arch, source, family, size, quant, params".startswith(
        note.removeprefix("not shown at this width: ").split(" (")[0]
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_runs(width: int, hf_run: int, columns, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    columns(width)
    out = run_cli(["runs"], capsys)
    assert_whole(out, [HF_LONG, HF_QUANT, LONG_SUITE, "sentiment"])
    # 73 + 42 characters of names cannot sit side by side in 80 columns: the run becomes a block of
    # `field  value` lines, where only the line of the 73-character name passes the edge.
    assert_fits("\n".join(line for line in out.splitlines() if HF_LONG not in line), width)
    assert any(line.startswith("settings  loglik, limit 3, seed 0") for line in out.splitlines())


def test_runs_side_by_side(hf_run: int, columns, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    rename_models(hf_run, {HF_LONG: "qwen2.5-coder-0.5b", HF_QUANT: "smollm2-135m"})
    width = 80
    columns(width)
    out = run_cli(["runs"], capsys)
    assert_whole(out, ["qwen2.5-coder-0.5b", "smollm2-135m", LONG_SUITE, "sentiment"])
    assert_fits(out, width)
    header = next(line for line in out.splitlines() if line.lstrip().startswith("id"))
    assert "models" in header and "suites" in header


@pytest.mark.parametrize("width", WIDTHS)
def test_terminal_scorecard(width: int, hf_run: int, columns, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    columns(width)
    out = run_cli(["scorecard", "last", "--format", "table"], capsys)
    assert f"{LONG_SUITE} — accuracy" in out
    assert_whole(out, [HF_LONG, HF_QUANT])
    # Only a table holding the 73-character name may pass the edge, and only as far as that name needs.
    assert_fits(out, max(width, len(HF_LONG) + len(" 0.333") + 2))
    assert_rows_start_with(out, [HF_LONG, HF_QUANT])


@pytest.mark.parametrize("width", WIDTHS)
def test_bench_closing_scorecard(width: int, tmp_path: Path, columns,  # noqa: ANN001
                                 capsys: pytest.CaptureFixture[str]) -> None:
    import_suite(tmp_path, LONG_SUITE)
    model = f"scripted:{LONG_MODEL}"
    columns(width)
    out = run_cli(["bench", LONG_SUITE, "-m", model, "-m", "scripted:b", "--limit", "3"], capsys)
    scorecard = out[out.index("Scorecard — run 1") :]
    assert_rows_start_with(scorecard, [model, "scripted:b"])
    assert_whole(scorecard, [LONG_SUITE])
    assert_fits(scorecard, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_models_info(width: int, tmp_path: Path, columns, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    gguf = write_gguf(tmp_path / f"{LONG_MODEL}.gguf", arch="qwen2", name="Qwen2.5 Tiny",
                      metadata={"qwen2.attention.layer_norm_rms_epsilon": 1e-6})
    columns(width)
    out = run_cli(["models", "info", str(gguf)], capsys)
    assert_whole(out, [LONG_MODEL, "qwen2.attention.layer_norm_rms_epsilon", "general.architecture"])
    assert_fits(out, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_models_search(width: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns,  # noqa: ANN001
                       capsys: pytest.CaptureFixture[str]) -> None:
    from hub_server import FakeRepo, HubServer, point_huggingface_hub_at

    server = HubServer().start()
    try:
        point_huggingface_hub_at(server.url, tmp_path / "hf-home", monkeypatch)
        long_repo = "mradermacher/Llama-3.2-1B-Instruct-abliterated-i1-GGUF"
        server.add(FakeRepo(long_repo, {f"m.{q}.gguf": b"G" * 3000 for q in ("Q4_K_M", "Q5_K_M", "Q8_0")},
                            downloads=1234))
        server.add(FakeRepo("bartowski/Llama-3.2-1B-Instruct-GGUF", {"llama-Q4_K_M.gguf": b"G" * 3000},
                            gated=True, downloads=70))
        columns(width)
        out = run_cli(["models", "search", "llama", "1b"], capsys)
    finally:
        server.stop()
    assert_rows_start_with(out, [long_repo, "bartowski/Llama-3.2-1B-Instruct-GGUF (gated)"])
    table = out[: out.index("pull one with")]
    assert_fits(table, width)


def test_chat_stats_table_keeps_model_names_whole(columns, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    columns(60)
    out = run_cli(["chat", "-m", f"scripted:{LONG_MODEL}", "-m", "scripted:b", "hi", "--max-tokens", "4"],
                  capsys)
    assert_whole(out, [f"[A] {LONG_MODEL}", "[B] b"])


# ----- through a pipe, as a person runs it ----------------------------------------------------------


def test_piped_suites_are_80_columns_with_whole_names(tmp_path: Path, duel_home: Path) -> None:
    import_suite(tmp_path, LONG_SUITE)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(DUEL_HOME=str(duel_home), PYTHONPATH=str(ROOT))
    # No terminal on any standard stream: rich falls back to 80 columns, as in `duel suites | cat`.
    done = subprocess.run([sys.executable, "-m", "tui.cli", "suites"], cwd=ROOT, env=env, text=True,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=True)
    assert_whole(done.stdout, [LONG_SUITE, "sentiment"])
    assert_fits(done.stdout, 80)
    assert max(width_of(line) for line in done.stdout.splitlines()) >= 70  # it used the 80 columns


# ----- --json on every listing, documented in --help -------------------------------------------------


def test_scorecard_json_alias_prints_the_json_export(hf_run: int, capsys: pytest.CaptureFixture[str]) -> None:
    alias = json.loads(run_cli(["scorecard", "last", "--json"], capsys))
    assert alias == json.loads(run_cli(["scorecard", "last", "--format", "json"], capsys))
    assert {r["model"] for r in alias["results"]} == {HF_LONG, HF_QUANT}
    assert {r["suite"] for r in alias["results"]} == {"sentiment", LONG_SUITE}


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["scorecard", "last", "--json", "--format", "md"], "--json and --format md contradict each other"),
        (["scorecard", "last", "--format", "table", "-o", "card.md"], "--format table is for the terminal"),
    ],
)
def test_scorecard_format_mistakes_are_one_line(argv: list[str], needle: str, hf_run: int,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err


def test_listings_json_has_the_full_names(hf_run: int, capsys: pytest.CaptureFixture[str]) -> None:
    runs = json.loads(run_cli(["runs", "--json"], capsys))
    assert runs[0]["models"] == [HF_LONG, HF_QUANT] and runs[0]["suites"] == ["sentiment", LONG_SUITE]
    suites = json.loads(run_cli(["suites", "--json"], capsys))
    assert {"name", "task", "items", "metric", "labels", "source", "version"} <= set(suites[-1])
    assert suites[-1]["name"] == LONG_SUITE


@pytest.mark.parametrize(
    "argv",
    [["models"], ["models", "list"], ["models", "search"], ["suites"], ["runs"], ["scorecard"],
     ["recommend"]],
)
def test_help_documents_json_with_an_example_and_the_column_rule(argv: list[str],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--json" in out and '{"' in out  # an example of the JSON shape
    assert "In a narrow terminal (or a pipe: 80 columns)" in out and "whole" in out
