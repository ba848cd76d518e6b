"""GGUF models from the Hugging Face hub: references, search, download, errors.

- refs.py: what `hf:OWNER/REPO[@REV][/FILE.gguf | :QUANT]` means; quantizations and split parts
  read from file names; picking a quantization among a repo's files (no network);
- search.py: a repo's GGUF files with sizes, and searching the hub for GGUF repos;
- download.py: finding a model on disk, or downloading it resumably and verifying it;
- transfer.py: the only use of huggingface_hub's private streaming download, fenced in one place;
- endpoint.py and errors.py: where the hub is, and one-line errors for what goes wrong.

The names below are the package's public face (`from models import hub; hub.pull(...)`).
"""

from models.hub.download import (
    DISK_MARGIN_BYTES,
    PullResult,
    download_root,
    find_local,
    local_path,
    pull,
    resolve_hf_reference,
)
from models.hub.endpoint import DEFAULT_HUB, hub_cache_dir, hub_endpoint
from models.hub.errors import (
    DiskSpaceError,
    HubAccessError,
    HubError,
    HubNotFoundError,
    HubOfflineError,
    check_reachable,
)
from models.hub.refs import (
    DEFAULT_QUANT,
    HF_PREFIX,
    HubFile,
    HubRef,
    QuantChoice,
    SplitInfo,
    choose_model,
    default_registry_name,
    group_models,
    parse_reference,
    quantization_from_filename,
    split_info,
    split_part_names,
)
from models.hub.search import SearchHit, list_gguf_files, search

__all__ = [
    "DEFAULT_HUB",
    "DEFAULT_QUANT",
    "DISK_MARGIN_BYTES",
    "HF_PREFIX",
    "DiskSpaceError",
    "HubAccessError",
    "HubError",
    "HubFile",
    "HubNotFoundError",
    "HubOfflineError",
    "HubRef",
    "PullResult",
    "QuantChoice",
    "SearchHit",
    "SplitInfo",
    "check_reachable",
    "choose_model",
    "default_registry_name",
    "download_root",
    "find_local",
    "group_models",
    "hub_cache_dir",
    "hub_endpoint",
    "list_gguf_files",
    "local_path",
    "parse_reference",
    "pull",
    "quantization_from_filename",
    "resolve_hf_reference",
    "search",
    "split_info",
    "split_part_names",
]
