"""Every importer on small files in each public format, and every bad-input case."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.errors import SuiteDataError
from benchmarks.importers import ImportRequest, import_suite
from benchmarks.suites import imported_dir, list_suites, load_suite


def _tweets_csv(path: Path, n_each: int = 6) -> Path:
    rows = []
    for k in range(n_each):
        rows.append(
            {
                "tweet_id": 100 + k,
                "airline_sentiment": "negative",
                "airline": "United",
                "text": f"@united flight {k} delayed again, lost my bag",
            }
        )
        rows.append(
            {
                "tweet_id": 200 + k,
                "airline_sentiment": "positive",
                "airline": "Delta",
                "text": f"@delta crew on flight {k} was lovely, thanks!",
            }
        )
        rows.append(
            {
                "tweet_id": 300 + k,
                "airline_sentiment": "neutral",
                "airline": "JetBlue",
                "text": f"@jetblue does flight {k} have wifi?",
            }
        )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_kaggle_tweets_csv(tmp_path: Path) -> None:
    path = _tweets_csv(tmp_path / "Tweets.csv")
    suite = import_suite(
        ImportRequest(path, "airline", "classify", text_col="text", label_col="airline_sentiment")
    )
    assert suite.task == "classify" and len(suite.items) == 18
    assert suite.labels == ("negative", "neutral", "positive")
    assert suite.items[0].text == "@united flight 0 delayed again, lost my bag"
    assert suite.items[0].target == "negative"
    assert suite.manifest.answer_name == "Sentiment"
    assert (imported_dir() / "airline" / "items.jsonl").is_file()
    names = [s.manifest.name if hasattr(s, "manifest") else s.name for s in list_suites()]
    assert "airline" in names
    # Reloading by name gives the same items (the stored copy is what runs use).
    assert [i.id for i in load_suite("airline").items] == [i.id for i in suite.items]


def test_tweets_csv_columns_are_found_without_flags(tmp_path: Path) -> None:
    path = _tweets_csv(tmp_path / "Tweets.csv")
    suite = import_suite(ImportRequest(path, "airline2", "classify"))
    assert len(suite.items) == 18  # text + airline_sentiment are the conventional names


def test_limit_is_stratified_by_label_and_seeded(tmp_path: Path) -> None:
    path = _tweets_csv(tmp_path / "Tweets.csv", n_each=20)
    a = import_suite(ImportRequest(path, "small", "classify", limit=9, seed=3))
    assert Counter(i.target for i in a.items) == {"negative": 3, "neutral": 3, "positive": 3}
    b = import_suite(ImportRequest(path, "small2", "classify", limit=9, seed=3))
    assert [i.text for i in a.items] == [i.text for i in b.items]


def test_tweeteval_folder_and_text_file(tmp_path: Path) -> None:
    folder = tmp_path / "sentiment"
    folder.mkdir()
    (folder / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    (folder / "test_text.txt").write_text("I hate mondays\nit is tuesday\nlove this song\n")
    (folder / "test_labels.txt").write_text("0\n1\n2\n")
    suite = import_suite(ImportRequest(folder, "tweeteval", "classify"))
    assert [(i.text, i.target) for i in suite.items] == [
        ("I hate mondays", "negative"),
        ("it is tuesday", "neutral"),
        ("love this song", "positive"),
    ]
    again = import_suite(ImportRequest(folder / "test_text.txt", "tweeteval2", "classify"))
    assert len(again.items) == 3


def test_tweeteval_label_outside_mapping(tmp_path: Path) -> None:
    (tmp_path / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    (tmp_path / "test_text.txt").write_text("a\nb\n")
    (tmp_path / "test_labels.txt").write_text("0\n7\n")
    with pytest.raises(SuiteDataError, match=r"test_labels.txt:2: label '7' is not in the label set"):
        import_suite(ImportRequest(tmp_path, "te", "classify"))


def test_gsm8k_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    rows = [
        {"question": "Tom has 3 apples and buys 4 more. How many?", "answer": "3 + 4 = <<3+4=7>>7\n#### 7"},
        {"question": "A shirt costs $1,200 / 100. Price?", "answer": "1200/100 = 12\n#### 12"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    suite = import_suite(ImportRequest(path, "gsm8k", "math"))
    assert [i.target for i in suite.items] == ["7", "12"]
    assert suite.items[0].extra["solution"].endswith("#### 7")


def test_gsm8k_malformed_line_reports_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    path.write_text('{"question": "q", "answer": "#### 1"}\n{"question": "q2", "answer": \n')
    with pytest.raises(SuiteDataError, match=rf"{path}:2: malformed JSON"):
        import_suite(ImportRequest(path, "gsm", "math"))


def test_mmlu_headerless_csv(tmp_path: Path) -> None:
    path = tmp_path / "high_school_physics_test.csv"
    path.write_text(
        '"What is the SI unit of force?",Joule,Newton,Watt,Pascal,B\n'
        '"Speed of light is about?","3e8 m/s","3e5 m/s","340 m/s","1 m/s",A\n'
    )
    suite = import_suite(ImportRequest(path, "mmlu-physics", "mc"))
    first = suite.items[0]
    assert first.text == "What is the SI unit of force?"
    assert first.choices == ("Joule", "Newton", "Watt", "Pascal") and first.target == "B"
    assert first.extra["subject"] == "high school physics"


def test_cais_mmlu_parquet(tmp_path: Path) -> None:
    path = tmp_path / "test-00000-of-00001.parquet"
    frame = pd.DataFrame(
        {
            "question": ["2 + 2 = ?", "Capital of France?"],
            "subject": ["elementary_mathematics", "geography"],
            "choices": [["3", "4", "5", "6"], ["Paris", "Rome", "Oslo", "Bern"]],
            "answer": [1, 0],
        }
    )
    frame.to_parquet(path)
    suite = import_suite(ImportRequest(path, "mmlu", "mc"))
    assert [(i.target, i.choices[0]) for i in suite.items] == [("B", "3"), ("A", "Paris")]
    assert suite.items[0].extra["subject"] == "elementary mathematics"


def test_mc_answer_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "mc.jsonl"
    path.write_text(json.dumps({"question": "q", "choices": ["a", "b"], "answer": 5}) + "\n")
    with pytest.raises(SuiteDataError, match=r"mc.jsonl:1: answer '5' is not a choice"):
        import_suite(ImportRequest(path, "mc", "mc"))


def test_summaries_csv_xlsx_jsonl_with_chosen_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "content": [
                "The council met on Monday and approved the new park. " * 5,
                "Rain fell all week. " * 5,
            ],
            "human_summary": ["Council approves park.", "A rainy week."],
            "title": ["Park", "Rain"],
        }
    )
    frame.to_csv(tmp_path / "news.csv", index=False)
    frame.to_excel(tmp_path / "news.xlsx", index=False)
    frame.to_json(tmp_path / "news.jsonl", orient="records", lines=True)
    for n, name in enumerate(("news.csv", "news.xlsx", "news.jsonl")):
        suite = import_suite(
            ImportRequest(
                tmp_path / name, f"news{n}", "summarize", text_col="content", summary_col="human_summary"
            )
        )
        assert [i.target for i in suite.items] == ["Council approves park.", "A rainy week."]
        assert suite.items[0].extra["title"] == "Park"
        assert suite.task == "summarize" and suite.manifest.metric == "rougeL"


def test_generic_parquet_and_jsonl_with_text_and_label_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"review": ["great", "awful", "fine", "superb"], "stars": ["pos", "neg", "pos", "pos"]}
    )
    frame.to_parquet(tmp_path / "r.parquet")
    suite = import_suite(
        ImportRequest(tmp_path / "r.parquet", "reviews", "classify", text_col="review", label_col="stars")
    )
    assert suite.labels == ("neg", "pos") and suite.manifest.answer_name == "Label"
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in frame.to_dict(orient="records")))
    assert (
        len(
            import_suite(
                ImportRequest(
                    tmp_path / "r.jsonl", "reviews2", "classify", text_col="review", label_col="stars"
                )
            ).items
        )
        == 4
    )


def test_missing_column_lists_the_columns_found(tmp_path: Path) -> None:
    path = _tweets_csv(tmp_path / "Tweets.csv")
    with pytest.raises(SuiteDataError) as err:
        import_suite(ImportRequest(path, "x", "classify", text_col="text", label_col="sentiment"))
    message = str(err.value)
    assert "no column 'sentiment'" in message
    assert "columns found: tweet_id, airline_sentiment, airline, text" in message
    assert "\n" not in message


def test_labels_outside_declared_label_set(tmp_path: Path) -> None:
    path = _tweets_csv(tmp_path / "Tweets.csv")
    with pytest.raises(SuiteDataError, match=r"Tweets.csv:4: label 'neutral' is not in the label set"):
        import_suite(ImportRequest(path, "x", "classify", labels=("positive", "negative")))


def test_empty_suite_after_filtering(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": ["", "  "], "label": ["a", "b"]}).to_csv(path, index=False)
    with pytest.raises(SuiteDataError, match="no items left after filtering"):
        import_suite(ImportRequest(path, "x", "classify"))


def test_bad_names_missing_files_and_unknown_types(tmp_path: Path) -> None:
    path = _tweets_csv(tmp_path / "Tweets.csv")
    with pytest.raises(SuiteDataError, match="built-in suite"):
        import_suite(ImportRequest(path, "sentiment", "classify"))
    with pytest.raises(SuiteDataError, match="bad suite name"):
        import_suite(ImportRequest(path, "Bad Name!", "classify"))
    with pytest.raises(SuiteDataError, match="no such file"):
        import_suite(ImportRequest(tmp_path / "nope.csv", "x", "classify"))
    (tmp_path / "data.docx").write_text("x")
    with pytest.raises(SuiteDataError, match="unsupported file type"):
        import_suite(ImportRequest(tmp_path / "data.docx", "x", "classify"))
