"""The demo pipeline end to end on the tiny preset (the real demo uses `small`)."""

import pytest

from tbfl.experiments.demo import run_demo


@pytest.mark.slow  # trains a tiny model
def test_demo_trains_compares_and_reports(tiny_config, tmp_path, capsys):
    report = run_demo(tmp_path / "demo", config=tiny_config, data_root=tmp_path / "data", preset="tiny", jobs=1, epochs=2, progress=False)
    out = capsys.readouterr().out
    assert "bce" in out and "tbfl_kauto_g2" in out
    assert "short events (< 2 s)" in out and "long events (>= 2 s)" in out
    assert report.is_file() and (report.parent / "figures" / "fig3_classwise_f1.png").is_file()
    assert sorted(p.name for p in (tmp_path / "demo" / "runs").iterdir()) == ["data-bce_s42", "data-tbfl_kauto_g2_s42"]  # named by the dataset folder
    # a second demo skips both trainings
    run_demo(tmp_path / "demo", config=tiny_config, data_root=tmp_path / "data", preset="tiny", jobs=1, epochs=2, progress=False)
    assert "2 already finished, 0 to go" in capsys.readouterr().out
