"""Output errors: a full disk mid-`tbfl synth` is one line naming the file, exit 2, and a rerun completes."""

import errno
import os
from pathlib import Path

import pytest

from tbfl.cli import main
from tbfl.io import WriteError, atomic_write_text


def test_write_error_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "out" / "metrics.json"
    atomic_write_text(target, "old")

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(WriteError) as raised:
        atomic_write_text(target, "new")
    assert str(raised.value) == f"{target}: cannot write (No space left on device)" and raised.value.errno == errno.ENOSPC
    assert target.read_text() == "old" and sorted(p.name for p in target.parent.iterdir()) == ["metrics.json"]


def test_disk_full_during_synth_is_one_line_exit_2_and_a_rerun_completes(tiny_root, tmp_path, monkeypatch, capsys):
    out = tmp_path / "dataset"
    write_bytes = Path.write_bytes
    calls = []

    def fills_up(self, data):
        calls.append(self)
        if len(calls) > 5:  # the sixth file finds the disk full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", fills_up)
    assert main(["synth", "--out", str(out), "--preset", "tiny", "--seed", "0", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"tbfl synth: error: {out}/") and err.endswith(".wav: cannot write (No space left on device)")
    assert not list(out.rglob(".*.tmp*"))  # no half file
    monkeypatch.setattr(Path, "write_bytes", write_bytes)  # space freed
    assert main(["synth", "--out", str(out), "--preset", "tiny", "--seed", "0", "--no-progress"]) == 0
    made = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.wav")}
    reference = {p.relative_to(tiny_root): p.read_bytes() for p in tiny_root.rglob("*.wav")}
    assert made.keys() == reference.keys() and all(made[name] == reference[name] for name in made)
