"""Presets: DESED 2021 set sizes and the paper's Table 1 soundbank (planned, not rendered)."""

import numpy as np
import pytest

from tbfl.constants import DESED_CLASSES
from tbfl.synth.presets import PRESETS, get_preset
from tbfl.synth.soundbank import plan_soundbank
from tbfl.data.table1 import PAPER_AVG_SOURCE_LENGTH_S, PAPER_TABLE1


def train_sources(preset, seed=0):
    specs = [s for s in plan_soundbank(preset, seed) if s.role == "foreground" and s.split == "train"]
    counts = [sum(s.label == c for s in specs) for c in DESED_CLASSES]
    mean_s = [np.mean([s.n_samples / 16000 for s in specs if s.label == c]) for c in DESED_CLASSES]
    return counts, mean_s


def test_desed_preset_has_the_real_set_sizes_and_table1_soundbank():
    desed = get_preset("desed")
    assert (desed.n_synth_train, desed.n_weak, desed.n_unlabeled, desed.n_synth_val, desed.n_validation) == (10_000, 1_578, 14_412, 2_500, 1_168)
    counts, mean_s = train_sources(desed)
    assert counts == [int(v) for v in PAPER_TABLE1.volumes]
    np.testing.assert_allclose(mean_s, PAPER_AVG_SOURCE_LENGTH_S, atol=0.001)


def test_scaled_presets_keep_table1_ratios():
    for name, factor in (("small", 0.25), ("medium", 0.5)):
        counts, mean_s = train_sources(get_preset(name))
        np.testing.assert_allclose(counts, np.array(PAPER_TABLE1.volumes) * factor, atol=0.5)
        np.testing.assert_allclose(mean_s, PAPER_AVG_SOURCE_LENGTH_S, atol=0.001)
    small, medium = get_preset("small"), get_preset("medium")
    assert small.n_synth_train + small.n_weak + small.n_unlabeled == 1500
    assert medium.n_clips == 5 * small.n_clips


def test_held_out_sources_are_a_fifth_of_each_class():
    specs = plan_soundbank(get_preset("desed"), 0)
    for label, n_train in zip(DESED_CLASSES, PAPER_TABLE1.volumes):
        heldout = sum(s.label == label and s.split == "validation" for s in specs)
        assert heldout / (heldout + n_train) == pytest.approx(0.2, abs=0.01)
    assert len({s.seed for s in specs}) == len(specs)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="tiny, small, medium, study2, desed"):
        get_preset("huge")
    assert set(PRESETS) == {"tiny", "small", "medium", "study2", "desed"}
