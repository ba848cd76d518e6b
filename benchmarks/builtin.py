"""The built-in suites: items written for this project in the formats of the public sets.

Data files in `benchmarks/data/` (one JSON object per line, ids stable across versions):
- sentiment.jsonl: {"id", "text", "label": positive|negative|neutral, "domain": airline|shop|app}
- knowledge.jsonl: {"id", "subject", "question", "choices": [4 strings], "answer": A|B|C|D}
- summarize.jsonl: {"id", "title", "article", "summary"}
- math.jsonl: {"id", "question", "answer": "worked solution ... #### 42"}
Bump `version` when items change meaning; the file hash is added to it anyway (see suites.py).
"""

from __future__ import annotations

from benchmarks.suites import SuiteManifest

BUILTIN_SUITES: tuple[SuiteManifest, ...] = (
    SuiteManifest(
        name="sentiment",
        version="1",
        task="classify",
        metric="accuracy",
        description="Customer posts about airlines, shops and apps: positive / negative / neutral",
        file="sentiment.jsonl",
        labels=("positive", "negative", "neutral"),
        instruction="Classify the sentiment of each customer post as positive, negative or neutral.",
        input_name="Post",
        answer_name="Sentiment",
    ),
    SuiteManifest(
        name="knowledge",
        version="1",
        task="mc",
        metric="accuracy",
        description="Four-option multiple-choice questions across subjects (MMLU style)",
        file="knowledge.jsonl",
        instruction="The following are multiple choice questions (with answers).",
        input_name="Question",
        answer_name="Answer",
    ),
    SuiteManifest(
        name="summarize",
        version="1",
        task="summarize",
        metric="rougeL",
        description="News-style articles (300-700 words) with reference summaries",
        file="summarize.jsonl",
        instruction="Summarize the following article in two or three sentences.",
        input_name="Article",
        answer_name="Summary",
    ),
    SuiteManifest(
        name="math",
        version="1",
        task="math",
        metric="exact_match",
        description="Grade-school word problems with a numeric answer (GSM8K style)",
        file="math.jsonl",
        instruction=(
            "Solve the math word problem. Reason step by step, then write the final answer "
            "on the last line as '#### <number>'."
        ),
        input_name="Question",
        answer_name="Answer",
    ),
)

BUILTIN_NAMES = tuple(s.name for s in BUILTIN_SUITES)
