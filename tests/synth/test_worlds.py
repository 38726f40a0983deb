"""Worlds: the knobs that reshape a preset's soundbank (V_c spread and scale, source-length spread) and validation
set (held-out sources, clips); planned without rendering, except where waveforms are compared across seeds."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tbfl.cli import main
from tbfl.constants import DESED_CLASSES
from tbfl.data.desed import StrongLabels
from tbfl.data.layout import DesedLayout
from tbfl.data.stats import frame_ratios
from tbfl.data.table1 import PAPER_AVG_SOURCE_LENGTH_S, PAPER_TABLE1
from tbfl.synth import generate_dataset
from tbfl.synth.presets import World, apply_world, get_preset
from tbfl.synth.generate import plan_set
from tbfl.synth.soundbank import SourceFile, bank_folder, plan_soundbank


def foreground(preset, split, seed=0):
    """(counts (C,), mean lengths (C,) in s) of the planned foreground sources of one split."""
    specs = [s for s in plan_soundbank(preset, seed) if s.role == "foreground" and s.split == split]
    counts = np.array([sum(s.label == c for s in specs) for c in DESED_CLASSES])
    mean_s = np.array([np.mean([s.n_samples / 16000 for s in specs if s.label == c]) for c in DESED_CLASSES])
    return counts, mean_s


def log_spread(values):
    return float(np.std(np.log(np.asarray(values, dtype=float))))


def test_volume_spread_flat_paper_and_wider_keep_the_total():
    study2 = get_preset("study2")
    flat, _ = foreground(apply_world(study2, World(volume_spread=0)), "train")
    paper, _ = foreground(apply_world(study2, World(volume_spread=1)), "train")
    wide, _ = foreground(apply_world(study2, World(volume_spread=2)), "train")
    assert set(flat) == {25}  # 0.25 * 1009 / 10, rounded
    np.testing.assert_array_equal(paper, get_preset("small").sources_per_class)  # Table 1 at study2's own scale, 0.25
    assert log_spread(wide) == pytest.approx(2 * log_spread(PAPER_TABLE1.volumes), rel=0.05)
    assert np.argmax(wide) == np.argmax(PAPER_TABLE1.volumes) and np.argmin(wide) == np.argmin(PAPER_TABLE1.volumes)
    for counts in (flat, paper, wide):
        assert counts.sum() == pytest.approx(0.25 * sum(PAPER_TABLE1.volumes), rel=0.01)


def test_volume_scale_is_relative_to_table1_at_the_same_clip_count():
    small = get_preset("small")
    paper_scale = apply_world(small, World(volume_scale=1.0))
    counts, _ = foreground(paper_scale, "train")
    np.testing.assert_array_equal(counts, PAPER_TABLE1.volumes)
    assert paper_scale.n_clips == small.n_clips
    quarter, _ = foreground(apply_world(small, World(volume_scale=0.25, volume_spread=0)), "train")
    assert set(quarter) == {25}


def test_duration_spread_flat_paper_and_wider():
    desed = get_preset("desed")
    _, flat = foreground(apply_world(desed, World(duration_spread=0)), "train")
    _, paper = foreground(apply_world(desed, World(duration_spread=1)), "train")
    _, wide = foreground(apply_world(desed, World(duration_spread=2)), "train")
    geometric_mean = float(np.exp(np.mean(np.log(PAPER_AVG_SOURCE_LENGTH_S))))
    np.testing.assert_allclose(flat, geometric_mean, atol=0.002)
    np.testing.assert_allclose(paper, PAPER_AVG_SOURCE_LENGTH_S, atol=0.002)
    assert log_spread(wide) > 1.4 * log_spread(PAPER_AVG_SOURCE_LENGTH_S)  # 2x in log units, less where clipped to 0.3-30 s
    assert wide.min() >= 0.3 - 0.002 and wide.max() <= 30.0 + 0.002  # kept in MEAN_SOURCE_LENGTH_RANGE_S


def test_held_out_sources_and_validation_clips():
    preset = apply_world(get_preset("small"), World(heldout_per_class=20, n_validation=1000))
    counts, _ = foreground(preset, "validation")
    assert set(counts) == {20} and preset.n_validation == 1000
    study2 = get_preset("study2")
    assert set(foreground(study2, "validation")[0]) == {20} and study2.n_validation == 1000
    assert apply_world(study2, World()) is study2


def test_seeds_give_independent_held_out_sources():
    study2 = get_preset("study2")
    plans = [[s for s in plan_soundbank(study2, seed) if s.role == "foreground"] for seed in (0, 1)]
    assert not {s.seed for s in plans[0]} & {s.seed for s in plans[1]}
    heldout = [[s.n_samples for s in plan if s.split == "validation"] for plan in plans]
    assert len(heldout[0]) == len(heldout[1]) == 200
    assert np.mean(np.array(heldout[0]) == np.array(heldout[1])) < 0.05  # lengths drawn anew


def _digests(root, role, split):
    """sha256 of the audio samples (the bytes after the header) of every source of one bank folder."""
    folder = bank_folder(DesedLayout(root), role, split)
    return {hashlib.sha256(sf.read(path, dtype="int16")[0].tobytes()).hexdigest() for path in folder.rglob("*.wav")}


@pytest.mark.parametrize("role", ["foreground", "background"])
def test_seeds_give_no_common_source_waveform(tiny_root, tmp_path_factory, role):
    other = tmp_path_factory.getbasetemp() / "tiny_seed1"
    generate_dataset(other, preset="tiny", seed=1, progress=False)  # resumes: generated once for both roles
    for split in ("train", "validation"):  # training sources and the held-out ones
        first, second = _digests(tiny_root, role, split), _digests(other, role, split)
        assert len(first) == len(second) > 0
        assert not first & second, f"{role}/{split}: identical waveforms under seeds 0 and 1"


def test_cli_world_is_recorded_and_checked(tmp_path, capsys):
    out = tmp_path / "flat"
    argv = ["synth", "--out", str(out), "--preset", "tiny", "--seed", "3", "--no-progress", "--volume-spread", "0",
            "--duration-spread", "0", "--event-count-spread", "0", "--heldout-per-class", "2", "--n-validation", "4"]
    assert main(argv) == 0
    manifest = json.loads((out / "tbfl_synth.json").read_text())
    world = manifest["world"]
    assert world["volume_spread"] == 0 and world["duration_spread"] == 0 and world["n_validation"] == 4
    assert world["event_count_spread"] == 0 and world["event_share_targets"] == [0.1] * 10 and "frame_ratio_targets" not in world
    assert len(set(world["sources_per_class"])) == 1 and len(set(world["mean_source_length_s"])) == 1
    assert world["heldout_per_class"] == [2] * 10
    capsys.readouterr()
    assert main(["stats", str(out), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert set(stats["volumes"]) == {world["sources_per_class"][0]}
    lengths = [length for length in stats["avg_source_length_s"] if length is not None]
    assert max(lengths) / min(lengths) < 1.5  # one mean length for all classes (within the draw)
    assert len(list(DesedLayout(out).path("validation_audio").glob("*.wav"))) == 4
    assert main([*argv[:-1], "5"]) == 2  # another world in the same folder
    assert "this folder was generated with" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option, message",
    [
        (["--volume-spread", "-1"], "volume_spread must be a finite number >= 0, got -1.0"),
        (["--volume-scale", "0"], "volume_scale must be a finite number > 0, got 0.0"),
        (["--n-validation", "0"], "n_validation must be an integer >= 1, got 0"),
        (["--event-count-spread", "-0.5"], "event_count_spread must be a finite number >= 0, got -0.5"),
    ],
)
def test_bad_world_options_exit_2_with_one_line(tmp_path, capsys, option, message):
    assert main(["synth", "--out", str(tmp_path / "x"), "--preset", "tiny", "--no-progress", *option]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"tbfl synth: error: {message}"]
    assert not (tmp_path / "x").exists()


def test_duration_spread_also_spreads_the_frame_shares_so_the_flat_world_is_flat():
    """The duration knob moves r_c with the event lengths (TBFL's weights see r_c, not lengths): 0 gives equal
    shares, 1 Table 1's, 2 twice the log spread; the planned soundscapes reach those shares."""
    assert apply_world(get_preset("study2"), World(volume_spread=1)).frame_ratio_target() is None  # Table 1's
    for spread in (0, 1, 2):
        preset = apply_world(get_preset("study2"), World(duration_spread=spread))
        target = np.array(preset.frame_ratio_targets)
        assert target.sum() == pytest.approx(1.0, abs=1e-5)
        assert log_spread(target) == pytest.approx(spread * log_spread(PAPER_TABLE1.frame_ratios), abs=1e-4)
        lengths_s = preset.mean_source_length_s
        foreground = tuple(SourceFile(c, f"/{c}_{i}.wav", int(length_s * 16000)) for c, length_s in zip(DESED_CLASSES, lengths_s)
                           for i in range(3))
        background = (SourceFile("noise", "/bg.wav", 20 * 16000),)
        plans = plan_set("x", 1200, 0, foreground, background, frame_ratio_target=preset.frame_ratio_target())
        rows = [row for plan in plans for row in plan.strong_rows()]
        labels = StrongLabels(pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"]), tuple(p.filename for p in plans))
        measured = frame_ratios(labels)
        np.testing.assert_allclose(measured, target, atol=0.025 if spread < 2 else 0.06)


def planned_events(preset, n_clips=1200):
    """(events per class (C,), mean event length per class (C,) in s) of a set planned on one source per class at the
    preset's mean lengths, three of each."""
    foreground = tuple(SourceFile(c, f"/{c}_{i}.wav", int(length_s * 16000)) for c, length_s in zip(DESED_CLASSES, preset.mean_source_length_s)
                       for i in range(3))
    plans = plan_set("x", n_clips, 0, foreground, (SourceFile("noise", "/bg.wav", 20 * 16000),),
                     frame_ratio_target=preset.frame_ratio_target(), event_share_target=preset.event_share_target())
    events = pd.DataFrame([row for plan in plans for row in plan.strong_rows()], columns=["filename", "onset", "offset", "event_label"])
    counts = events["event_label"].value_counts().reindex(DESED_CLASSES).to_numpy()
    lengths_s = (events["offset"] - events["onset"]).groupby(events["event_label"]).mean().reindex(DESED_CLASSES).to_numpy()
    return counts, lengths_s


def test_event_count_spread_keeps_the_counts_while_the_duration_knob_moves_the_lengths():
    """With --event-count-spread, the classes' shares of events follow Table 1's (r_c / event duration) at that
    spread whatever the lengths; without it, the wide duration world gives Speech most of the events."""
    from tbfl.synth.presets import PAPER_EVENT_COUNT_SHAPE

    paper_shares = np.array(PAPER_EVENT_COUNT_SHAPE) / sum(PAPER_EVENT_COUNT_SHAPE)
    study2 = get_preset("study2")
    for spread in (0, 1, 2):
        preset = apply_world(study2, World(event_count_spread=spread))
        shares = np.array(preset.event_share_targets)
        assert shares.sum() == pytest.approx(1.0, abs=1e-5) and preset.frame_ratio_target() is None
        assert log_spread(shares) == pytest.approx(spread * log_spread(paper_shares), abs=1e-4)
    kept = apply_world(study2, World(duration_spread=2, event_count_spread=1))
    counts, lengths_s = planned_events(kept)
    np.testing.assert_allclose(counts / counts.sum(), paper_shares, atol=0.02)  # the paper's counts ...
    flat_lengths = apply_world(study2, World(duration_spread=0, event_count_spread=1))
    flat_counts, flat_lengths_s = planned_events(flat_lengths)
    # 4.13 s events clash more often with another of their class in a 10 s clip (a clash is redrawn): Speech, half
    # of the events, reaches 0.42 of them there instead of 0.49
    np.testing.assert_allclose(flat_counts / flat_counts.sum(), paper_shares, atol=0.08)
    assert log_spread(lengths_s) > 3 * log_spread(flat_lengths_s)  # ... at wide or equal lengths
    wide_counts, _ = planned_events(apply_world(study2, World(duration_spread=2)))
    speech = DESED_CLASSES.index("Speech")
    assert wide_counts[speech] / wide_counts.sum() > 0.85 > counts[speech] / counts.sum()  # study 2's duration-wide world
