"""What can go wrong with the hub, as one-line errors the user can act on (never with the token)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from models.errors import DuelError, ModelNotFoundError
from models.hub.endpoint import have_token, hub_endpoint, offline_mode

_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class HubError(DuelError):
    """Something about the hub the user must fix (access, network, names, disk)."""


class HubAccessError(HubError):
    """A gated or private repo and no token (or a token without access)."""


class HubOfflineError(HubError):
    """The hub cannot be reached."""


class HubNotFoundError(HubError, ModelNotFoundError):
    """No such repo, revision, file or quantization."""


class DiskSpaceError(HubError):
    """Not enough free disk space for the download."""


def check_reachable(timeout_s: float = 5.0) -> None:
    """Fail fast with HubOfflineError when nothing answers at the hub's address.

    huggingface_hub retries a refused connection for about 20 s on some calls (listing, paging);
    one TCP connect tells a user who is offline the same thing at once.
    """
    endpoint = hub_endpoint()
    if offline_mode():
        raise HubOfflineError("offline mode is on (HF_HUB_OFFLINE=1): the hub is not contacted")
    if any(os.environ.get(v) for v in _PROXY_VARS):
        return  # behind a proxy a direct connect proves nothing; let the real request tell
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HubOfflineError(
            f"cannot reach the Hugging Face hub at {endpoint} ({reason}); are you offline?"
        ) from exc


@contextmanager
def hub_errors(what: str) -> Iterator[None]:
    """Turn huggingface_hub/httpx errors about `what` into one-line HubErrors (never with the token)."""
    import httpx2
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    endpoint = hub_endpoint()
    try:
        yield
    except GatedRepoError:
        page = f"{endpoint}/{what.split('/')[0]}/{what.split('/')[1]}" if what.count("/") >= 1 else endpoint
        if have_token():
            raise HubAccessError(
                f"{what}: gated repo and your HF_TOKEN has no access to it; request access at {page}"
            ) from None
        raise HubAccessError(
            f"{what}: gated repo; accept its licence at {page}, then set HF_TOKEN to a read token"
        ) from None
    except RepositoryNotFoundError:
        hint = "" if have_token() else " (if it is private, set HF_TOKEN)"
        raise HubNotFoundError(f"{what}: no such repo on {endpoint}{hint}") from None
    except RevisionNotFoundError:
        raise HubNotFoundError(f"{what}: no such revision on {endpoint}") from None
    except RemoteEntryNotFoundError:
        raise HubNotFoundError(f"{what}: no such file on {endpoint}") from None
    except OfflineModeIsEnabled:
        raise HubOfflineError("offline mode is on (HF_HUB_OFFLINE=1): the hub is not contacted") from None
    except httpx2.ConnectError as exc:
        raise HubOfflineError(
            f"cannot reach the Hugging Face hub at {endpoint} ({exc}); are you offline?"
        ) from None
    except httpx2.TimeoutException:
        raise HubOfflineError(f"the Hugging Face hub at {endpoint} did not answer in time") from None
    except httpx2.TransportError as exc:
        raise HubOfflineError(f"connection to {endpoint} failed: {type(exc).__name__}: {exc}") from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        if status in (401, 403):
            raise HubAccessError(
                f"{what}: access denied by the hub (HTTP {status}); check HF_TOKEN"
            ) from None
        raise HubError(f"{what}: the hub answered HTTP {status}") from None
    except OSError as exc:  # a short download, a full disk: one line, the reason kept
        reason = " ".join(str(exc).split())[:300]
        raise HubError(f"{what}: download failed: {reason}") from None

