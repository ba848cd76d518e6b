"""Where llama.cpp keeps a model's weights on the CPU: the one place duel decides it.

Besides the plain CPU buffer (the weights as the file has them, memory-mapped), llama.cpp's CPU
backend offers "extra" buffer types that lay the weights out again for faster kernels, and by default
takes the first one that accepts each weight:
- AMX         Intel AMX tiles (Sapphire Rapids and later Xeons; compiled in with AMX_INT8);
- CPU_REPACK  interleaved rows for AVX2 / AVX-512 / NEON kernels (on x86: Q4_0, Q4_K, IQ4_NL, MXFP4,
              and Q2_K with AVX-512);
- KLEIDIAI, SPACEMIT on ARM and RISC-V builds that have them.
On AMX Xeons, llama-cpp-python 0.3.36 segfaults in `ggml_backend_amx_mul_mat` on every decode of two
or more tokens (llama.cpp #20824): in that kernel a one-row product takes an AVX512-VNNI path and
anything larger the AMX tile path, which is the one that crashes. A weight lives in one buffer for
every decode, so AMX cannot be kept for generation alone without making every decode one token long.

The user's choice (`--weights`, `[engine] weights` in config.toml, the chat settings):
- auto    (default) from llama.cpp's own report of this CPU: "no-amx" where its AMX kernels are
          compiled in, "all" elsewhere;
- all     every extra buffer type (llama.cpp's own default);
- no-amx  every extra buffer type except AMX (CPU_REPACK stays);
- plain   none: `use_extra_bufts = False`.

How it is applied: `Llama.__init__` builds its model params from
`llama_cpp.llama_cpp.llama_model_default_params()`, so for the length of a load that function
returns params with `use_extra_bufts` set as chosen. llama.cpp has no switch for a single extra buffer
type (`tensor_buft_overrides` pointing at the CPU buffer re-selects among all extra types, AMX first,
and pointing at CPU_REPACK skips the check that the weight's type can be repacked), so "no-amx" edits
the list the CPU backend hands out (`ggml_backend_dev_get_extra_bufts`: a null-terminated array that
llama.cpp reads at each model load) to leave AMX out, reads it back to check, and puts it back after
the load. llama.cpp then picks among the remaining types with its own rules. Every load is checked
afterwards against llama.cpp's load log ("AMX model buffer size = ..."): see `unexpected_buffers`.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from models.errors import DuelError
from models.weights_choice import WEIGHT_CHOICES

AMX = "AMX"
REPACK = "CPU_REPACK"
MODES = ("all", "no-amx", "plain")  # what a choice resolves to ("auto" is never a mode)
_CPU_DEVICE = 0  # GGML_BACKEND_DEVICE_TYPE_CPU
_BUFFER_LINE = re.compile(r"(\S+) model buffer size\s*=\s*([0-9.]+) MiB")


# --- the decision (pure: unit-tested with other CPUs' reports) ------------------------------------


def parse_system_info(text: str) -> dict[str, dict[str, str]]:
    """`llama_print_system_info()` -> {backend: {feature: value}}.

    The text is "CPU : SSE3 = 1 | AVX2 = 1 | ... | " with one such group per backend that reports
    features (a CUDA build adds "CUDA : ARCHS = 890 | ...").
    """
    backends: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        if " : " in part:  # "CPU : SSE3 = 1": a new backend starts with its first feature
            name, part = (p.strip() for p in part.split(" : ", 1))
            current = backends.setdefault(name, {})
        if current is None or "=" not in part:
            continue
        key, value = (p.strip() for p in part.split("=", 1))
        current[key] = value
    return backends


@dataclass(frozen=True)
class CpuReport:
    """What llama.cpp says about this machine, as plain data."""

    system_info: str
    extra_bufts: tuple[str, ...] | None = None  # what the CPU backend offers; None: not readable

    @property
    def cpu_features(self) -> dict[str, str]:
        return parse_system_info(self.system_info).get("CPU", {})

    @property
    def has_amx(self) -> bool:
        """llama.cpp has AMX kernels here (the feature is reported only when compiled in)."""
        return self.cpu_features.get("AMX_INT8") == "1" or AMX in (self.extra_bufts or ())


@dataclass(frozen=True)
class Placement:
    """How one load places the weights, and why (shown by `duel doctor` and the settings screen)."""

    choice: str  # what the user asked for: one of WEIGHT_CHOICES
    mode: str  # one of MODES
    reason: str
    exclude: frozenset[str] = field(default_factory=frozenset)  # extra buffer types left out

    @property
    def use_extra_bufts(self) -> bool:
        return self.mode != "plain"

    def summary(self) -> str:
        shown = self.mode if self.choice == self.mode else f"{self.choice} → {self.mode}"
        return f"{shown}: {self.reason}"


AMX_CRASH = "llama.cpp's AMX kernels crash on decodes of 2+ tokens on this CPU (llama.cpp #20824)"


def decide(choice: str, report: CpuReport) -> Placement:
    """The placement for `choice` on the machine `report` describes."""
    if choice not in WEIGHT_CHOICES:
        raise DuelError(f"unknown weights choice {choice!r}; choose one of {', '.join(WEIGHT_CHOICES)}")
    offered = ", ".join(report.extra_bufts) if report.extra_bufts else "none reported"
    if choice == "plain":
        return Placement(choice, "plain", "extra buffer types off, as asked: weights used as stored")
    if choice == "all":
        warning = f"; warning: {AMX_CRASH}" if report.has_amx else ""
        return Placement(choice, "all", f"every extra buffer type llama.cpp offers ({offered}){warning}")
    if not report.has_amx:
        if choice == "no-amx":
            return Placement(choice, "no-amx", f"no AMX here; the extra buffer types stay ({offered})",
                             frozenset({AMX}))
        return Placement(choice, "all", f"no AMX kernels on this CPU; extra buffer types on ({offered})")
    if report.extra_bufts is None:  # the list cannot be edited: the only safe way is all off
        return Placement(choice, "plain", f"{AMX_CRASH}; this llama.cpp gives no way to leave AMX out "
                         "alone, so extra buffer types are off")
    kept = ", ".join(b for b in report.extra_bufts if b != AMX) or "none left"
    return Placement(choice, "no-amx", f"AMX left out ({AMX_CRASH}); kept: {kept}", frozenset({AMX}))


def weight_buffers(log_lines: Iterable[str]) -> dict[str, float]:
    """Buffer type -> MiB of weights, from llama.cpp's load log ("CPU_REPACK model buffer size = 28 MiB")."""
    found: dict[str, float] = {}
    for line in log_lines:
        match = _BUFFER_LINE.search(line)
        if match:
            found[match.group(1)] = found.get(match.group(1), 0.0) + float(match.group(2))
    return found


def unexpected_buffers(
    placement: Placement, buffers: dict[str, float], extra_bufts: Iterable[str]
) -> list[str]:
    """Buffer types a load used that its placement rules out (empty when the placement held)."""
    ruled_out = set(extra_bufts) if placement.mode == "plain" else set(placement.exclude)
    return sorted(name for name in buffers if name in ruled_out)


# --- llama.cpp's side (ctypes; nothing is loaded before the first call) ---------------------------


class _Ggml:
    """The few ggml functions llama-cpp-python has no binding for."""

    def __init__(self) -> None:
        from llama_cpp import _ggml  # loads libggml, which llama_cpp itself has loaded already

        lib = _ggml.libggml
        sig = {
            "ggml_backend_dev_by_type": ([ctypes.c_int], ctypes.c_void_p),
            "ggml_backend_dev_backend_reg": ([ctypes.c_void_p], ctypes.c_void_p),
            "ggml_backend_reg_get_proc_address": ([ctypes.c_void_p, ctypes.c_char_p], ctypes.c_void_p),
            "ggml_backend_buft_name": ([ctypes.c_void_p], ctypes.c_char_p),
            "ggml_version": ([], ctypes.c_char_p),
            "ggml_commit": ([], ctypes.c_char_p),
        }
        for name, (args, result) in sig.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, result
        self.lib = lib
        self.pristine: list[int] | None = None  # the extra buffer types as llama.cpp made them

    def extra_bufts_array(self) -> Any:
        """The CPU backend's null-terminated array of extra buffer types (None if it has none)."""
        lib = self.lib
        dev = lib.ggml_backend_dev_by_type(_CPU_DEVICE)
        if not dev:
            return None
        reg = lib.ggml_backend_dev_backend_reg(dev)
        address = lib.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_dev_get_extra_bufts")
        if not address:
            return None
        getter = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)(address)
        array = getter(dev)
        return array if array else None

    def pointers(self, array: Any) -> list[int]:
        out, i = [], 0
        while array[i]:
            out.append(int(array[i]))
            i += 1
        return out

    def name(self, buft: int) -> str:
        return (self.lib.ggml_backend_buft_name(buft) or b"?").decode("utf-8", "replace")


_ggml: _Ggml | None = None
_ggml_missing = False  # this llama-cpp-python lacks one of the functions: nothing can be edited
_ggml_lock = threading.Lock()
# One load at a time changes what llama.cpp loads with (a module attribute and a process-wide array).
_APPLY_LOCK = threading.Lock()


def _backend() -> _Ggml | None:
    global _ggml, _ggml_missing
    with _ggml_lock:
        if _ggml is None and not _ggml_missing:
            try:
                backend = _Ggml()
            except (AttributeError, OSError):  # another build: decide() then plays safe (see its AMX case)
                _ggml_missing = True
                return None
            array = backend.extra_bufts_array()
            backend.pristine = backend.pointers(array) if array is not None else None
            _ggml = backend
        return _ggml


def system_info() -> str:
    import llama_cpp

    raw = llama_cpp.llama_print_system_info()
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def cpu_report() -> CpuReport:
    """This machine, as llama.cpp sees it (the extra buffer types as llama.cpp made them)."""
    backend = _backend()
    if backend is None or backend.pristine is None:
        return CpuReport(system_info(), None)
    return CpuReport(system_info(), tuple(backend.name(p) for p in backend.pristine))


def ggml_build() -> tuple[str, str]:
    """(ggml version, commit) of the llama.cpp that llama-cpp-python carries."""
    backend = _backend()
    if backend is None:
        return "?", "?"
    return backend.lib.ggml_version().decode(), backend.lib.ggml_commit().decode()


def choose(choice: str = "auto") -> Placement:
    """The placement for `choice` on this machine."""
    return decide(choice, cpu_report())


def configured_choice(flag: str | None = None) -> tuple[str, str]:
    """(choice, where it comes from): a command's --weights flag, else config.toml, else "auto"."""
    if flag:
        return flag, "--weights"
    from models.config import load_config

    engine = load_config().engine
    explicit = "weights" in engine.model_fields_set
    return engine.weights, "config.toml [engine] weights" if explicit else "default"


def _set_extra_bufts(backend: _Ggml | None, exclude: frozenset[str]) -> bool:
    """Offer llama.cpp the pristine extra buffer types minus `exclude`; True once read back so."""
    array = backend.extra_bufts_array() if backend is not None else None
    if backend is None or array is None or backend.pristine is None:
        return not exclude
    wanted = [p for p in backend.pristine if backend.name(p) not in exclude]
    for i, pointer in enumerate(wanted):  # never longer than the pristine list: stays in the array
        array[i] = pointer
    array[len(wanted)] = None
    return backend.pointers(backend.extra_bufts_array()) == wanted


def _model_params_with(use_extra_bufts: bool) -> tuple[Any, Any]:
    """(module, original) after making llama_model_default_params() set use_extra_bufts."""
    import llama_cpp.llama_cpp as lowlevel  # what Llama.__init__ calls (not the package attribute)

    original = lowlevel.llama_model_default_params
    original = getattr(original, "duel_original", original)

    def default_params() -> Any:
        params = original()
        params.use_extra_bufts = use_extra_bufts
        return params

    default_params.duel_original = original  # type: ignore[attr-defined]
    lowlevel.llama_model_default_params = default_params
    return lowlevel, original


def _apply(placement: Placement) -> tuple[Placement, Any]:
    """Make the next loads use `placement`; returns what really applies and how to undo it."""
    backend = _backend()
    effective = placement
    if placement.exclude and not _set_extra_bufts(backend, placement.exclude):
        _set_extra_bufts(backend, frozenset())
        effective = replace(placement, mode="plain", exclude=frozenset(),
                            reason=f"{placement.reason}; but the extra buffer list did not take the change, "
                            "so extra buffer types are off")
    module, original = _model_params_with(effective.use_extra_bufts)

    def undo() -> None:
        module.llama_model_default_params = original
        if effective.exclude:
            _set_extra_bufts(backend, frozenset())

    return effective, undo


@contextmanager
def placed(placement: Placement) -> Iterator[Placement]:
    """Loads of `Llama` inside the block place their weights as `placement` says (one block at a time).

    Yields the placement that really applies: "plain" if the extra buffer list could not be edited.
    """
    with _APPLY_LOCK:
        effective, undo = _apply(placement)
        try:
            yield effective
        finally:
            undo()


def apply_to_process(placement: Placement) -> Placement:
    """For a process that only loads through llama-cpp-python's own code (its server): for good."""
    effective, _ = _apply(placement)
    return effective
