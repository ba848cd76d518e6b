"""Where the hub is and who we are to it: endpoint, cache folder, token, API client, offline mode.

The endpoint is read from HF_ENDPOINT on every call (huggingface_hub reads it once, at import) and
passed explicitly to every huggingface_hub call. The token comes from huggingface_hub's usual places
(HF_TOKEN, or `hf auth login`); duel never prints, logs or stores it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_HUB = "https://huggingface.co"


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_HUB).rstrip("/")


def hub_cache_dir() -> Path:
    """The huggingface_hub cache as the environment names it now (not as it was at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def have_token() -> bool:
    from huggingface_hub import get_token

    return bool(get_token())


def hub_api() -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_endpoint())


def offline_mode() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.upper() in {"1", "ON", "YES", "TRUE"}

