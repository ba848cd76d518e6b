"""The blind arena: battles between two hidden models, votes, and a leaderboard built from them.

- `battle.py`: the pool, the random pair and sides of each battle, and the rules of a vote
  (no vote before both answers end, none after the reveal) for the TUI to drive.
- `store.py`: battles and votes in SQLite (`arena.sqlite3`); a recorded vote is final.
- `ratings.py`: Bradley-Terry ratings on the Elo scale with bootstrap intervals, win rates and the
  position bias; `leaderboard.py` builds one from the store and renders it (md, csv, json, html).
- `lmsys.py`: import and export in the LMSYS / FastChat battle format (JSON Lines).
- `judge.py`, `judge_run.py`: a model as the voter, both answer orders, several seeds.
- `prompts.py`: the built-in arena prompt set (`benchmarks/data/arena_prompts.jsonl`) or a user's file.
"""
