"""Table 1 statistics on a hand-made DESED-layout dataset, and the ``tbfl stats`` command."""

import json
import math

import numpy as np
import pytest

from tbfl.cli import main
from tbfl.constants import DESED_CLASSES
from tbfl.data.desed import read_strong_tsv
from tbfl.data.layout import DesedLayout
from tbfl.data.stats import DatasetStats, frame_ratios, measure_stats, soundbank_volumes
from tbfl.weights import time_balanced_weights


def per_class(values: dict, default=0.0):
    return [values.get(name, default) for name in DESED_CLASSES]


def test_measure_stats_equals_hand_computed_numbers(tiny_layout, tiny_expected):
    stats = measure_stats(tiny_layout)
    assert stats.classes == DESED_CLASSES
    assert stats.volumes.dtype == np.int64 and stats.volumes.tolist() == per_class(tiny_expected.volumes)
    np.testing.assert_allclose(stats.avg_source_length_s, per_class(tiny_expected.source_lengths_s), rtol=1e-12)
    np.testing.assert_allclose(stats.frame_ratios, per_class(tiny_expected.frame_ratios), rtol=1e-12)
    np.testing.assert_allclose(stats.avg_event_duration_s, per_class(tiny_expected.event_durations_s, np.nan), rtol=1e-12)
    assert stats.n_events.tolist() == per_class(tiny_expected.n_events, 0)


def test_soundbank_volumes_ignore_unknown_folders_with_a_warning(tiny_layout):
    foreground = tiny_layout.path("soundbank_foreground")
    (foreground / "Helicopter").mkdir()
    (foreground / "Helicopter" / "x.wav").write_bytes(b"not read")
    (foreground / "Blender_nOn_nOff").mkdir()
    with pytest.warns(UserWarning, match=r"ignored folder\(s\) of unknown classes \['Helicopter'\]"):
        volumes, lengths = soundbank_volumes(foreground)
    assert volumes[DESED_CLASSES.index("Blender")] == 1
    with pytest.warns(UserWarning, match="'Helicopter', 'Running_water'"):
        volumes, lengths = soundbank_volumes(foreground, classes=("Dog", "Cat", "Siren"))
    assert volumes.tolist() == [3, 1, 0] and math.isnan(lengths[2])
    with pytest.raises(FileNotFoundError, match="soundbank foreground folder not found"):
        soundbank_volumes(foreground / "nowhere")


def test_frame_ratios_need_a_positive_frame(tmp_path):
    path = tmp_path / "strong.tsv"
    path.write_text("filename\tonset\toffset\tevent_label\na.wav\t\t\t\n")
    with pytest.raises(ValueError, match="no positive frame"):
        frame_ratios(read_strong_tsv(path))


def test_missing_parts_are_named(tiny_layout, tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        measure_stats(DesedLayout(tmp_path / "nowhere"))
    tiny_layout.path("synth_train_tsv").unlink()
    with pytest.raises(FileNotFoundError) as error:
        measure_stats(tiny_layout)
    assert str(tiny_layout.path("synth_train_tsv")) in str(error.value) and "soundbank" not in str(error.value)


def test_dict_and_json_round_trip(tiny_layout, tmp_path):
    stats = measure_stats(tiny_layout)
    data = stats.to_dict()
    assert data["avg_event_duration_s"][0] is None  # Alarm: no event, NaN -> null
    path = tmp_path / "out" / "stats.json"
    stats.to_json(path)
    back = DatasetStats.from_dict(json.loads(path.read_text()))
    assert back.classes == stats.classes and back.volumes.dtype == np.int64
    for name in ("volumes", "avg_source_length_s", "frame_ratios", "avg_event_duration_s", "n_events"):
        np.testing.assert_array_equal(getattr(back, name), getattr(stats, name))
    with pytest.raises(ValueError, match=r"lack key\(s\) \['n_events'\]"):
        DatasetStats.from_dict({key: value for key, value in data.items() if key != "n_events"})
    with pytest.raises(ValueError, match="volumes has 2 values for 10 classes"):
        DatasetStats.from_dict({**data, "volumes": [1, 2]})


# --------------------------------------------------------------------------- tbfl stats


def test_cli_json(tiny_layout, tiny_expected, capsys):
    assert main(["stats", str(tiny_layout.root), "--json", "--k", "100"]) == 0
    captured = capsys.readouterr()
    assert "tbfl stats: warning: floor(k * r_c) = 0 for ['Alarm_bell_ringing', 'Blender', 'Dishes'" in captured.err
    out = json.loads(captured.out)
    assert out["classes"] == list(DESED_CLASSES) and out["k"] == 100
    assert out["volumes"] == per_class(tiny_expected.volumes)
    assert out["frame_ratios"] == pytest.approx(per_class(tiny_expected.frame_ratios))
    assert out["n_events"] == per_class(tiny_expected.n_events, 0)
    assert out["avg_event_duration_s"][DESED_CLASSES.index("Dog")] == pytest.approx(0.42)
    with pytest.warns(UserWarning):
        expected_weights = time_balanced_weights(out["volumes"], out["frame_ratios"], 100)
    assert out["tbfl_weights"] == pytest.approx(expected_weights.tolist())


def test_cli_table_and_out_file_feed_tbfl_weights(tiny_layout, tmp_path, capsys):
    out_file = tmp_path / "stats.json"
    assert main(["stats", str(tiny_layout.root), "--out", str(out_file)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert "Table 1" in lines[0] and "k = 1000" in lines[0]
    dog = next(line for line in lines if line.startswith("Dog "))
    assert dog.split() == ["Dog", "3", "1.17", "0.3500", "0.42", "2", dog.split()[-1]]
    assert "warning: floor(k * r_c) = 0" in captured.err
    saved = json.loads(out_file.read_text())
    assert saved["volumes"][DESED_CLASSES.index("Dog")] == 3
    assert main(["weights", "--stats", str(out_file), "--k", "1000", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("tbfl weights: warning: floor(k * r_c) = 0")  # the one tbfl warning style
    weights = {row["class"]: row["weight"] for row in json.loads(captured.out)["classes"]}
    assert weights["Dog"] == pytest.approx(float(dog.split()[-1]), abs=5e-4)


def test_cli_class_without_sources_has_no_weight(tiny_layout, capsys):
    for path in (tiny_layout.path("soundbank_foreground") / "Frying").iterdir():
        path.unlink()
    assert main(["stats", str(tiny_layout.root)]) == 0
    captured = capsys.readouterr()
    assert "TBFL weights not computed: class 'Frying': volume V_c must be finite and >= 1" in captured.err
    frying = next(line for line in captured.out.splitlines() if line.startswith("Frying"))
    assert frying.split() == ["Frying", "0", "n/a", "0.0000", "n/a", "0", "n/a"]


def test_cli_layout_config(tiny_layout, tmp_path, capsys):
    moved = tiny_layout.root / "labels" / "strong.tsv"
    moved.parent.mkdir()
    tiny_layout.path("synth_train_tsv").rename(moved)
    assert main(["stats", str(tiny_layout.root)]) == 2
    assert f"{tiny_layout.path('synth_train_tsv')} (strong training labels)" in capsys.readouterr().err

    flat = tmp_path / "layout.yaml"
    flat.write_text("synth_train_tsv: labels/strong.tsv\n")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("data:\n  root: elsewhere\n  layout: {synth_train_tsv: labels/strong.tsv}\nloss: {name: tbfl}\n")
    for config in (flat, recipe):
        assert main(["stats", str(tiny_layout.root), "--layout-config", str(config), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["n_events"][DESED_CLASSES.index("Dog")] == 2

    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("strong_tsv: labels/strong.tsv\n")
    assert main(["stats", str(tiny_layout.root), "--layout-config", str(unknown)]) == 2
    assert "unknown DESED layout keys ['strong_tsv']" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: 1\n  b: [\n")
    assert main(["stats", str(tiny_layout.root), "--layout-config", str(broken)]) == 2
    assert f"{broken}:2: not valid YAML" in capsys.readouterr().err


def test_cli_bad_label_file_is_reported(tiny_layout, capsys):
    tiny_layout.path("synth_train_tsv").write_text("filename\tonset\toffset\tevent_label\na.wav\t0\t1\tDogg\n")
    assert main(["stats", str(tiny_layout.root)]) == 2
    assert f"tbfl stats: error: {tiny_layout.path('synth_train_tsv')}:2: unknown event_label 'Dogg' (did you mean 'Dog'?)" in capsys.readouterr().err


def test_empty_soundbank_files_are_not_counted_and_say_so(tiny_layout, capsys):
    foreground = tiny_layout.path("soundbank_foreground")
    before, _ = soundbank_volumes(foreground)
    import soundfile as sf

    sf.write(foreground / "Dog" / "dog_empty.wav", np.zeros(0), 16000)
    with pytest.warns(UserWarning, match=r"1 empty audio file\(s\) \(0 samples\) not counted in V_c, e.g. \['dog_empty.wav'\]"):
        volumes, lengths = soundbank_volumes(foreground)
    assert volumes.tolist() == before.tolist()
    assert main(["stats", str(tiny_layout.root)]) == 0
    assert "tbfl stats: warning: " in capsys.readouterr().err


def test_cli_config_counts_r_c_on_the_recipe_frame_grid(tiny_layout, tmp_path, capsys):
    recipe = tmp_path / "recipe.yaml"  # hop 256 with time pooling 2: 313 frames of 32 ms (the baseline's: 156 of 64 ms)
    recipe.write_text("features: {hop_length: 256}\nmodel: {pooling: [[2, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]}\n")
    assert main(["stats", str(tiny_layout.root), "--config", str(recipe), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frame_grid"] == {"frame_hop_s": pytest.approx(0.032), "n_frames": 313}
    on_recipe_grid = measure_stats(tiny_layout, n_frames=313, frame_hop_s=0.032).frame_ratios
    on_baseline_grid = measure_stats(tiny_layout).frame_ratios
    assert out["frame_ratios"] == pytest.approx(on_recipe_grid.tolist(), abs=1e-15)
    assert not np.allclose(on_recipe_grid, on_baseline_grid)  # the grid matters for this dataset's events

    assert main(["stats", str(tiny_layout.root)]) == 0
    assert "r_c on 156 frames of 64.0 ms" in capsys.readouterr().out.splitlines()[0]
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {pooling: [1, 2]}\n")
    assert main(["stats", str(tiny_layout.root), "--config", str(bad)]) == 2
    assert "pooling must be a list of (time, freq) kernel pairs" in capsys.readouterr().err


def test_frame_rates_are_positive_frames_over_all_frames_and_round_trip(tiny_layout, tmp_path):
    """3 clips x 156 frames = 468 frames: Dog 14, Cat 10, Speech 16 positive frames (the hand counts above)."""
    stats = measure_stats(tiny_layout)
    np.testing.assert_allclose(stats.frame_rates, per_class({"Dog": 14 / 468, "Cat": 10 / 468, "Speech": 16 / 468}), rtol=1e-12)
    back = DatasetStats.from_dict(json.loads(json.dumps(stats.to_dict())))
    np.testing.assert_array_equal(back.frame_rates, stats.frame_rates)
    older = {key: value for key, value in stats.to_dict().items() if key != "frame_rates"}  # a record written before
    assert DatasetStats.from_dict(older).frame_rates is None
