"""Open an engine from the reference a user typed (`-m ...`).

`scripted:NAME?...` is the deterministic test engine, `remote:...` a model behind an
OpenAI-compatible server, anything else a local GGUF model (a registered or bundled name, or a
path), which is resolved, checked against free memory and loaded with llama.cpp.
"""

from __future__ import annotations

from collections.abc import Callable

from engines.base import Engine, LoadOptions

Progress = Callable[[int, int, str], None]  # (done_bytes, total_bytes, label)


def open_engine(ref: str, options: LoadOptions | None = None, progress: Progress | None = None) -> Engine:
    """The engine for `ref`. Raises DuelError subclasses for references a user got wrong."""
    options = options or LoadOptions()
    if ref.startswith("scripted:"):
        from engines.scripted import ScriptedEngine

        engine = ScriptedEngine.from_reference(ref)
        if options.n_threads:
            engine.set_threads(options.n_threads)
        return engine
    if ref.startswith("remote:"):
        from engines.remote import RemoteEngine  # imported here: most runs never need HTTP

        return RemoteEngine.from_reference(ref, options)

    from engines.llama_cpp_engine import LlamaCppEngine
    from models.memory import check_fits
    from models.resolve import resolve

    info = resolve(ref, progress=progress)
    check_fits(info, options.n_ctx, force=options.force)
    return LlamaCppEngine(info, options)
