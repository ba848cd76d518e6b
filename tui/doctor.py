"""What `duel doctor` finds on this machine: versions, CPU, weight placement, threads, memory,
models, folders; and the problems that would stop duel from working, one line each.

Everything here is cheap: llama.cpp is asked about itself but no model is loaded, model files are
described from their headers, and a bundled model is hashed only when its stored sha256 record is
missing or stale (models/bundled.file_state).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import DuelError


@dataclass
class DoctorReport:
    """Sections of plain JSON data, in the order they are shown, and the problems found."""

    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def problem(self, line: str) -> None:
        if line not in self.problems:  # e.g. a bad config.toml is met by two checks
            self.problems.append(line)

    def to_json(self) -> dict[str, Any]:
        return {**self.sections, "problems": self.problems, "ok": not self.problems}


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    """The CPU's marketing name (what a bug report needs beside llama.cpp's feature list)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions(report: DoctorReport) -> Any:
    """Versions section; returns the llama_cpp module, or None when it cannot be imported."""
    section: dict[str, Any] = {
        "duel": _version("duel"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "llama_cpp_python": _version("llama-cpp-python"),
    }
    report.sections["versions"] = section
    try:
        import llama_cpp
    except Exception as exc:  # a broken build is exactly what doctor is for
        report.problem(f"llama-cpp-python cannot be imported: {type(exc).__name__}: {exc}")
        return None
    from engines.weights import ggml_build

    section["llama_cpp_python"] = llama_cpp.__version__
    section["ggml"], section["ggml_commit"] = ggml_build()
    return llama_cpp


def _cpu_and_weights(report: DoctorReport, llama_cpp: Any, flag: str | None) -> None:
    from engines.threads import available_cores, split_threads
    from engines.weights import AMX, configured_choice, cpu_report, decide, parse_system_info

    cpu = cpu_report()
    backends = parse_system_info(cpu.system_info)
    report.sections["cpu"] = {
        "model": _cpu_model(),
        "machine": platform.machine(),
        "features": sorted(k for k, v in cpu.cpu_features.items() if v not in ("0", "")),
        "backends": sorted(backends),
        "extra_buffer_types": list(cpu.extra_bufts) if cpu.extra_bufts is not None else None,
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
        "system_info": cpu.system_info.strip(),
    }
    try:
        choice, source = configured_choice(flag)
    except DuelError as exc:  # a bad config file: say so, and show what auto would do
        report.problem(str(exc))
        choice, source = "auto", "default (config.toml unreadable)"
    placement = decide(choice, cpu)
    report.sections["weights"] = {
        "choice": choice,
        "from": source,
        "mode": placement.mode,
        "left_out": sorted(placement.exclude),
        "reason": placement.reason,
    }
    if placement.mode == "all" and cpu.has_amx:
        report.problem(
            f"weights {choice!r} ({source}) lets llama.cpp use AMX on this CPU, which crashes on every "
            f"prompt (llama.cpp #20824): use --weights auto or set [engine] weights = \"auto\""
        )
    if AMX in placement.exclude and AMX in (cpu.extra_bufts or ()):
        report.sections["weights"]["note"] = "AMX leaves llama.cpp's list for each load, then goes back"
    cores = available_cores()
    report.sections["threads"] = {
        "cores_available": cores,
        "cpu_count": os.cpu_count(),
        "one_model": split_threads(1, cores)[0],
        "two_models": split_threads(2, cores),
    }


def _memory_and_models(report: DoctorReport, n_ctx: int) -> None:
    import psutil

    from models import bundled
    from models.info import format_bytes
    from models.memory import estimate_memory
    from models.resolve import list_models

    memory = psutil.virtual_memory()
    free = int(memory.available)
    report.sections["memory"] = {"available_bytes": free, "total_bytes": int(memory.total),
                                 "available": format_bytes(free), "total": format_bytes(int(memory.total))}
    rows = []
    try:
        models = list_models()
    except DuelError as exc:
        report.problem(str(exc))
        models = []
    for info in models:
        row: dict[str, Any] = {"name": info.name, "source": info.source,
                               "path": str(info.path) if info.path else None, "size_bytes": info.file_size}
        if info.source == "bundled" and info.name in bundled.BUNDLED:
            state = bundled.file_state(bundled.BUNDLED[info.name])
            row["sha256"] = state.state
            row["sha256_detail"] = state.detail
            if not state.ok:
                report.problem(f"bundled model {info.name}: {state.state}: {state.detail}")
        elif info.status:  # a registered model whose file is gone or unreadable
            row["status"] = info.status
            report.problem(f"registered model {info.name}: {info.status}")
        if info.metadata or info.file_size:
            needs = estimate_memory(info, n_ctx).total
            row["needs_bytes"], row["fits"] = needs, needs <= free
            if info.source == "bundled" and needs > free:
                report.problem(
                    f"bundled model {info.name} needs about {format_bytes(needs)} with a {n_ctx}-token "
                    f"context; {format_bytes(free)} is free"
                )
        rows.append(row)
    report.sections["models"] = {"context_tokens": n_ctx, "list": rows}


def _writable(path: Path) -> bool:
    """`path` can be written, or created under its nearest existing parent."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return os.access(probe, os.W_OK | os.X_OK)


def _folders(report: DoctorReport) -> None:
    from models import paths

    folders = {
        "config": paths.config_dir(),
        "data": paths.data_dir(),
        "cache": paths.cache_dir(),
        "models": paths.models_dir(),
        "exports": paths.exports_dir(),
    }
    files = {"config_file": paths.config_file(), "results_db": paths.results_db_file(),
             "conversations_db": paths.conversations_db_file()}
    section: dict[str, Any] = {"DUEL_HOME": os.environ.get("DUEL_HOME") or None}
    for name, path in folders.items():
        writable = _writable(path)
        section[name] = {"path": str(path), "exists": path.is_dir(), "writable": writable}
        if not writable:
            report.problem(f"the {name} folder {path} is not writable")
    for name, path in files.items():
        section[name] = {"path": str(path), "exists": path.is_file()}
    report.sections["folders"] = section


def gather(weights_flag: str | None = None, n_ctx: int = 4096) -> DoctorReport:
    """The whole report (a second or two at most; longer only when a bundled file must be hashed)."""
    report = DoctorReport()
    llama_cpp = _versions(report)
    if llama_cpp is not None:
        _cpu_and_weights(report, llama_cpp, weights_flag)
    _memory_and_models(report, n_ctx)
    _folders(report)
    return report
