import json

import pytest

from tbfl.cli import main


def run_json(capsys, *argv):
    assert main(["weights", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_default_is_paper_table1(capsys):
    out = run_json(capsys)
    weights = {row["class"]: round(row["weight"], 2) for row in out["classes"]}
    assert weights["Cat"] == 1.55 and weights["Speech"] == 0.36
    assert out["k"] == 1000


def test_volumes_and_ratios_on_command_line(capsys):
    out = run_json(capsys, "--volumes", "10", "10", "--frame-ratios", "0.1", "0.9", "--k", "100", "--classes", "short", "long")
    rows = {row["class"]: row for row in out["classes"]}
    assert rows["short"]["exponent"] == 10 and rows["long"]["exponent"] == 90
    assert rows["short"]["weight"] > rows["long"]["weight"]
    assert rows["short"]["weight"] + rows["long"]["weight"] == pytest.approx(2.0)


def test_stats_file_yaml_and_inf(tmp_path, capsys):
    stats = tmp_path / "stats.yaml"
    stats.write_text("classes: [a, b]\nvolumes: [1, 4]\nframe_ratios: [0.5, 0.5]\n")
    out = run_json(capsys, "--stats", str(stats), "--k", "inf")
    assert out["k"] == "inf"
    assert [row["weight"] for row in out["classes"]] == pytest.approx([1.6, 0.4])  # w ∝ 1 / V


def test_table_output(capsys):
    assert main(["weights"]) == 0
    out = capsys.readouterr().out
    assert "Vacuum_cleaner" in out and "floor(k r_c)" in out and "0.711" in out


@pytest.mark.parametrize(
    "content, message",
    [("{not json", "stats.json:1: not valid JSON"), ('{"volumes": [1]}', "missing key"), ('{"volumes": [1, 2], "frame_ratios": [0.5]}', "equal length")],
)
def test_bad_stats_file(tmp_path, capsys, content, message):
    stats = tmp_path / "stats.json"
    stats.write_text(content)
    assert main(["weights", "--stats", str(stats)]) == 2
    assert message in capsys.readouterr().err


def test_bad_volume_is_reported(capsys):
    assert main(["weights", "--volumes", "0", "3", "--frame-ratios", "0.5", "0.5", "--classes", "x", "y"]) == 2
    assert "class 'x'" in capsys.readouterr().err
