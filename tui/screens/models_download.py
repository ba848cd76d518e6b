"""Download a GGUF model from the Hugging Face hub into duel's models dir, then register it.

`models.hub.pull` runs in a thread worker that only posts messages (progress at most ~10 a second).
Cancelling makes the progress callback raise, which stops huggingface_hub's download loop at the
next chunk; the `.part` file stays on disk, so the next Download of the same file resumes it.
On success the file is registered under a name (as `duel models pull` does) and the modal
dismisses with that name, so the models screen can select it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from models.errors import DuelError
from models.info import format_bytes

PROGRESS_EVERY_S = 0.1  # the bar redraws at most ~10 times a second, however fast the bytes come
GROUP = "hub-download"


class _DownloadCancelled(Exception):
    """Raised from the progress callback to stop a download the user cancelled.

    Not an OSError: models.hub turns OSErrors into "download failed" errors, and this is no failure.
    """


def one_line(text: str) -> str:
    return " ".join(text.split())


class ModelsDownloadScreen(ModalScreen[str | None]):
    """Dismisses with the registered name of the downloaded model, or None."""

    CSS_PATH = "../styles/models_download.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel download / close")]

    @dataclass
    class Progress(Message):
        done: int
        total: int
        label: str

    @dataclass
    class Finished(Message):
        name: str | None  # None when the file could not be registered (see `note`)
        path: Path
        ref: str
        downloaded_bytes: int
        note: str = ""

    @dataclass
    class Failed(Message):
        text: str

    @dataclass
    class Cancelled(Message):
        pass

    def __init__(self, ref: str = "", quant: str = "") -> None:
        super().__init__()
        self.initial_ref = ref
        self.initial_quant = quant
        self.downloading = False
        self.status_text = ""
        self.last_error = ""
        self._worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="download-dialog"):
            yield Label("Download a GGUF model from the Hugging Face hub", classes="dialog-title")
            with Horizontal(id="download-fields"):
                yield Input(
                    self.initial_ref,
                    placeholder="OWNER/REPO or hf:OWNER/REPO/FILE.gguf",
                    id="download-ref",
                )
                yield Input(self.initial_quant, placeholder="Quant (Q4_K_M)", id="download-quant")
            yield Input(placeholder="Register as (default: from the file name)", id="download-name")
            yield ProgressBar(id="download-progress", show_eta=False)
            yield Static("", id="download-status")
            yield Static("", id="download-error")
            with Horizontal(id="download-buttons"):
                yield Button("Download", id="download-start", variant="primary")
                yield Button("Cancel", id="download-cancel")
            yield Static(
                "Enter download · Escape cancels a download (run it again to resume) or closes",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#download-progress", ProgressBar).display = False
        self.query_one("#download-ref", Input).focus()

    # ----- starting and stopping ----------------------------------------------------------------
    @on(Input.Submitted)
    @on(Button.Pressed, "#download-start")
    def start_download(self) -> None:
        if self.downloading:
            return
        ref = self.query_one("#download-ref", Input).value.strip()
        quant = self.query_one("#download-quant", Input).value.strip()
        name = self.query_one("#download-name", Input).value.strip()
        if not ref:
            self._show_error("Type a hub reference: OWNER/REPO (with a quant) or hf:OWNER/REPO/FILE.gguf.")
            return
        self._show_error("")
        self.downloading = True
        self._set_status(f"Connecting to the hub for {ref}…")
        bar = self.query_one("#download-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.query_one("#download-start", Button).disabled = True
        self._worker = self._download(ref, quant, name)

    @on(Button.Pressed, "#download-cancel")
    def action_cancel(self) -> None:
        if self.downloading and self._worker is not None:
            self._set_status("Cancelling…")
            self._worker.cancel()  # the progress callback sees it at the next chunk
        elif not self.downloading:
            self.dismiss(None)

    # ----- the worker ----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group=GROUP, exit_on_error=False)
    def _download(self, ref_text: str, quant: str, name: str) -> None:
        """Thread: pull, then register; only posts messages."""
        from models import hub, registry

        worker = get_current_worker()
        last_post = 0.0

        def progress(done: int, total: int, label: str) -> None:
            nonlocal last_post
            if worker.is_cancelled:
                raise _DownloadCancelled
            now = time.monotonic()
            if now - last_post >= PROGRESS_EVERY_S or (total and done >= total):
                last_post = now
                self.post_message(self.Progress(done, total, label))

        try:
            ref = hub.parse_reference(ref_text, quant or None)
            if name:
                registry.validate_name(name)  # before a long download, not after
            result = hub.pull(ref, progress=progress)
        except _DownloadCancelled:
            self.post_message(self.Cancelled())
            return
        except DuelError as exc:
            self.post_message(self.Failed(one_line(str(exc))))
            return
        chosen = name or hub.default_registry_name(result.ref)
        registered, note = self._register(chosen, result.path, explicit=bool(name))
        self.post_message(
            self.Finished(registered, result.path, str(result.ref), result.downloaded_bytes, note)
        )

    @staticmethod
    def _register(name: str, path: Path, explicit: bool) -> tuple[str | None, str]:
        """Register like `duel models pull`: a clash with a default name does not fail the download."""
        from models import registry

        existing = registry.get(name)
        if existing is not None and existing.path == str(path.resolve()):
            return name, ""
        try:
            registry.add(path, name)
        except DuelError as exc:
            reason = one_line(str(exc))
            return None, (reason if explicit else f"downloaded to {path}, but not registered: {reason}")
        return name, ""

    # ----- what the worker tells ------------------------------------------------------------------
    def on_models_download_screen_progress(self, message: Progress) -> None:
        bar = self.query_one("#download-progress", ProgressBar)
        bar.update(total=message.total or None, progress=message.done)
        total = format_bytes(message.total or None)  # 0: the hub did not say
        self._set_status(f"{message.label}: {format_bytes(message.done)} of {total}")

    def on_models_download_screen_cancelled(self, _message: Cancelled) -> None:
        self._stopped()
        self._set_status("Download cancelled — run it again to resume where it stopped.")

    def on_models_download_screen_failed(self, message: Failed) -> None:
        self._stopped()
        self._set_status("")
        self._show_error(message.text)

    def on_models_download_screen_finished(self, message: Finished) -> None:
        self._stopped()
        if message.name is None:
            self._set_status(f"Downloaded {message.ref}.")
            self._show_error(message.note)
            return
        how = "downloaded" if message.downloaded_bytes else "already on disk"
        self.app.notify(f"{message.ref} {how}; registered as {message.name}.")
        self.dismiss(message.name)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Errors that are not the user's to fix (DuelErrors arrive as Failed messages).
        if event.worker.group == GROUP and event.state == WorkerState.ERROR:
            self._stopped()
            error = event.worker.error
            self._show_error(one_line(f"Download failed: {type(error).__name__}: {error}"))

    def _stopped(self) -> None:
        self.downloading = False
        self._worker = None
        self.query_one("#download-start", Button).disabled = False

    def _set_status(self, text: str) -> None:
        self.status_text = text
        self.query_one("#download-status", Static).update(Text(text))

    def _show_error(self, text: str) -> None:
        self.last_error = text
        self.query_one("#download-error", Static).update(Text(text))
