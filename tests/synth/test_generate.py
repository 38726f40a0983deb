"""A whole ``tiny`` dataset made through ``tbfl synth``: determinism, layout, labels versus audio, resume."""

import dataclasses
import os

import numpy as np
import pytest
import soundfile as sf

from tbfl.cli import main
from tbfl.constants import CLIP_DURATION_S, DESED_CLASSES, SAMPLE_RATE_HZ
from tbfl.data.desed import read_durations_tsv, read_strong_tsv, read_unlabeled_tsv, read_weak_tsv
from tbfl.data.layout import DesedLayout
from tbfl.data.stats import measure_stats
from tbfl.synth.generate import SETS, generate_dataset, plan_set
from tbfl.synth.presets import get_preset
from tbfl.synth.soundbank import CREDITS_TSV, HELDOUT_FOREGROUND, bank_folder, index_background, index_foreground
from tbfl.synth.soundscapes import MixSettings, render_clip

TINY = get_preset("tiny")
HEADERS = {"strong": "filename\tonset\toffset\tevent_label", "weak": "filename\tevent_labels", "none": "filename"}


def synth(root, *extra):
    return main(["synth", "--out", str(root), "--preset", "tiny", "--seed", "0", "--no-progress", *extra])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny") / "desed"
    assert synth(root) == 0
    return DesedLayout(root)


def all_files(root):
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


def plans_of(layout, set_spec):
    split = set_spec.bank_split
    foreground = index_foreground(bank_folder(layout, "foreground", split))
    background = index_background(bank_folder(layout, "background", split))
    return plan_set(set_spec.name, getattr(TINY, set_spec.count_field), 0, foreground, background)


def test_same_seed_gives_byte_identical_files_whatever_the_jobs(tiny, tmp_path):
    again = tmp_path / "again"
    assert synth(again, "--jobs", "2") == 0
    first, second = all_files(tiny.root), all_files(again)
    assert sorted(first) == sorted(second)
    tsvs = {name for name in first if name.endswith(".tsv")}
    assert tsvs == {path for path in DesedLayout.relative_paths().values() if path.endswith(".tsv")} | {CREDITS_TSV}
    for name in first:  # TSVs, soundbank and soundscape audio alike
        assert first[name].read_bytes() == second[name].read_bytes(), name


def test_every_layout_path_exists_with_the_right_header(tiny):
    for name in DesedLayout.relative_paths():
        assert tiny.path(name).exists(), name
    for set_spec in SETS:
        lines = tiny.path(set_spec.tsv).read_text().splitlines()
        assert lines[0] == HEADERS[set_spec.labels]
        if set_spec.durations_tsv:
            assert tiny.path(set_spec.durations_tsv).read_text().splitlines()[0] == "filename\tduration"


def test_sets_are_complete_and_readable(tiny):
    for set_spec in SETS:
        n_clips = getattr(TINY, set_spec.count_field)
        tsv = tiny.path(set_spec.tsv)
        if set_spec.labels == "strong":
            labels = read_strong_tsv(tsv)
            names = list(labels.filenames)
            assert set(labels.events["event_label"]) <= set(DESED_CLASSES)
            assert (labels.events.groupby("filename").size().between(1, 5)).all()
        elif set_spec.labels == "weak":
            weak = read_weak_tsv(tsv)
            names = list(weak["filename"])
        else:
            names = read_unlabeled_tsv(tsv)
        if set_spec.durations_tsv:
            assert read_durations_tsv(tiny.path(set_spec.durations_tsv)) == {name: CLIP_DURATION_S for name in names}
        audio = sorted(p.name for p in tiny.path(set_spec.audio).iterdir())
        assert len(names) == n_clips and sorted(names) == audio
        for name in audio[:3]:
            info = sf.info(tiny.path(set_spec.audio) / name)
            assert (info.samplerate, info.channels, info.frames, info.subtype) == (SAMPLE_RATE_HZ, 1, 160_000, "PCM_16")


def test_weak_tags_are_the_classes_of_the_mixed_events(tiny):
    weak_spec = next(s for s in SETS if s.name == "weak")
    weak = read_weak_tsv(tiny.path("weak_tsv"))
    plans = plans_of(tiny, weak_spec)
    assert list(weak["event_labels"]) == [plan.tags() for plan in plans]


def test_soundbank_shape_credits_and_held_out_sources(tiny):
    stats = measure_stats(tiny)
    assert stats.volumes.tolist() == list(TINY.sources_per_class)
    np.testing.assert_allclose(stats.avg_source_length_s, TINY.mean_source_length_s, atol=0.002)
    heldout = tiny.root / HELDOUT_FOREGROUND
    assert sorted(p.name for p in heldout.iterdir()) == sorted(DESED_CLASSES)
    bank_files = [p for p in (tiny.root / "soundbank" / "audio").rglob("*.wav")]
    credits = (tiny.root / CREDITS_TSV).read_text().splitlines()
    assert credits[0] == "file\trole\tsplit\tlabel\tgenerator\tlicence"
    rows = [line.split("\t") for line in credits[1:]]
    assert sorted(row[0] for row in rows) == sorted(p.relative_to(tiny.root).as_posix() for p in bank_files)
    assert all(row[5] == "CC0-1.0" and row[4].startswith("tbfl.synth") for row in rows)
    # The validation set mixes only held-out sources; the other sets never do.
    for set_spec in SETS:
        sources = {event.source for plan in plans_of(tiny, set_spec) for event in plan.events}
        in_heldout = {str(heldout) in source for source in sources}
        assert in_heldout == {set_spec.name == "validation"}, set_spec.name


def test_labels_are_exactly_the_mixed_spans(tiny):
    """Without the final peak scaling, removing one event changes the mix only inside its label."""
    plans = plans_of(tiny, SETS[0])
    written = read_strong_tsv(tiny.path("synth_train_tsv")).events
    assert [tuple(r) for r in written.itertuples(index=False)] == sorted(row for plan in plans for row in plan.strong_rows())
    raw = MixSettings(peak=np.inf)
    for plan in plans[:4]:
        full = render_clip(plan, raw)
        for event in plan.events:
            without = dataclasses.replace(plan, events=tuple(e for e in plan.events if e is not event))
            changed = np.flatnonzero(np.abs(full - render_clip(without, raw)) > 1e-9)
            onset, offset = round(event.onset_ms * 16), round(event.offset_ms * 16)
            assert changed.min() >= onset and changed.max() < offset
            assert changed.min() < onset + 160 and changed.max() >= offset - 160  # sound right at both edges


def test_energy_is_higher_inside_loud_events(tiny):
    plans = plans_of(tiny, SETS[0])
    audio_dir = tiny.path("synth_train_audio")
    checked = 0
    for plan in plans:
        audio, _ = sf.read(audio_dir / plan.filename)
        assert np.max(np.abs(audio)) <= 0.99 + 1 / 32768
        covered = np.zeros(len(audio), bool)
        for event in plan.events:
            covered[event.onset_ms * 16 : event.offset_ms * 16] = True
        if covered.all():
            continue
        quiet = np.mean(audio[~covered] ** 2)
        for event in plan.events:
            if event.snr_db >= 15:
                inside = audio[event.onset_ms * 16 : event.offset_ms * 16]
                assert np.mean(inside**2) > 10 * quiet, (plan.filename, event)
                checked += 1
    assert checked >= 5


def test_resume_regenerates_only_missing_files(tiny, tmp_path):
    root = tmp_path / "copy"
    for name, path in all_files(tiny.root).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(path.read_bytes())
    layout = DesedLayout(root)
    clip = layout.path("weak_audio") / "weak_00003.wav"
    source = layout.path("soundbank_foreground") / "Dog" / "Dog_0001.wav"
    originals = {p: p.read_bytes() for p in (clip, source)}
    clip.unlink()
    source.unlink()
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*.wav")}
    report = generate_dataset(root, "tiny", seed=0, progress=False)
    assert report.sources_written == 1
    assert report.clips_written == {"synth_train": 0, "weak": 1, "unlabel_in_domain": 0, "synth_val": 0, "validation": 0}
    assert all(p.read_bytes() == data for p, data in originals.items())
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in before.items())
    assert not [p for p in root.rglob(".*tmp*")]


def test_other_options_on_a_made_folder_are_refused(tiny, capsys):
    assert main(["synth", "--out", str(tiny.root), "--preset", "tiny", "--seed", "1", "--no-progress"]) == 2
    assert "tbfl_synth.json" in capsys.readouterr().err
    assert os.path.exists(tiny.root / "tbfl_synth.json")


def test_without_espeak_one_warning_and_the_same_labels(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("shutil.which", lambda name, *args, **kwargs: None)
    fallback = tmp_path / "fallback"
    assert synth(fallback) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "espeak-ng was not found on PATH" in err
    credits = (fallback / CREDITS_TSV).read_text()
    assert "procedural formant voice" in credits and "espeak-ng voice" not in credits
    for name in DesedLayout.relative_paths().values():
        if name.endswith(".tsv"):  # labels depend on the plan only, not on the speech backend
            assert (fallback / name).read_bytes() == (tiny.root / name).read_bytes(), name


def test_synth_writes_the_release_folder_names(tiny_root):
    for folder in ("audio/train/synthetic21_train/soundscapes_16k", "audio/validation/synthetic21_validation/soundscapes_16k",
                   "metadata/train/synthetic21_train", "metadata/validation/synthetic21_validation", "audio/train/weak_16k"):
        assert (tiny_root / folder).is_dir(), folder
    assert not list(tiny_root.glob("**/synthetic20_*"))
