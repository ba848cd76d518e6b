"""Listing a repo's GGUF files and searching the hub for GGUF repos."""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from models.hub.endpoint import hub_api
from models.hub.errors import HubError, check_reachable, hub_errors
from models.hub.refs import HubFile, QuantChoice, group_models


def list_gguf_files(repo_id: str, revision: str = "main") -> list[HubFile]:
    """The GGUF model files of a repo with sizes and sha256 (one request: model_info with blobs)."""
    with hub_errors(repo_id):
        info = hub_api().model_info(
            repo_id, revision=None if revision == "main" else revision, files_metadata=True
        )
    files = []
    for sibling in info.siblings or []:
        lfs = getattr(sibling, "lfs", None)
        hub_file = HubFile(sibling.rfilename, getattr(sibling, "size", None), lfs.sha256 if lfs else None)
        if hub_file.is_model:
            files.append(hub_file)
    return sorted(files, key=lambda f: f.path)


@dataclass(frozen=True)
class SearchHit:
    repo_id: str
    downloads: int = 0
    likes: int = 0
    gated: bool = False
    files: tuple[HubFile, ...] = ()
    sizes_known: bool = False

    @property
    def models(self) -> list[QuantChoice]:
        return group_models(self.files)

    @property
    def quants(self) -> list[str]:
        return sorted({c.quant for c in self.models if c.quant})


def search(words: Sequence[str], limit: int = 10, with_sizes: bool = True) -> list[SearchHit]:
    """GGUF repos on the hub matching every word of the query, most downloaded first."""
    check_reachable()
    terms = [w for w in (" ".join(words)).split() if w.lower() != "gguf"]
    api = hub_api()
    expand = ["downloads", "likes", "gated", "siblings"]
    with hub_errors("search"):
        models = list(
            api.list_models(
                search=" ".join(terms) or None, filter="gguf", sort="downloads", limit=limit, expand=expand
            )
        )
        if not models and len(terms) > 1:
            # The hub matches the query as one substring of the repo id; "qwen2.5 1.5b instruct"
            # is no substring of "Qwen2.5-1.5B-Instruct-GGUF". Search the most specific word and
            # keep repos whose id holds every word.
            anchor = max(terms, key=len)
            wide = api.list_models(search=anchor, filter="gguf", sort="downloads", limit=200, expand=expand)
            wanted = [_squash(t) for t in terms]
            models = [m for m in wide if all(w in _squash(m.id) for w in wanted)][:limit]
    hits = [
        SearchHit(
            m.id,
            downloads=m.downloads or 0,
            likes=m.likes or 0,
            gated=bool(m.gated),
            files=tuple(HubFile(s.rfilename) for s in (m.siblings or []) if HubFile(s.rfilename).is_model),
        )
        for m in models
    ]
    if with_sizes and hits:
        with ThreadPoolExecutor(max_workers=4) as pool:
            hits = list(pool.map(_with_sizes, hits))
    return hits


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.lower())


def _with_sizes(hit: SearchHit) -> SearchHit:
    try:
        files = list_gguf_files(hit.repo_id)
    except HubError:
        return hit  # sizes are a nicety in a search listing; the names are already there
    return SearchHit(hit.repo_id, hit.downloads, hit.likes, hit.gated, tuple(files), sizes_known=True)

