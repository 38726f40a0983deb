"""Detections given as event lists per operating point (psds_eval's input) give psds_eval's PSDS."""

import json

import numpy as np
import pandas as pd
import pytest

from tbfl.evaluation.metrics.intersection_based.reference import psds_eval_psds
from tbfl.evaluation.operating_points import operating_point_files_psds, operating_point_psds, read_operating_points
from tbfl.evaluation.settings import PSDS1, PSDS2, PsdsSettings
from tbfl.evaluation.validation import merge_overlapping_events

CLASSES = ("car", "dog", "siren", "speech")


def random_detections(rng, events, durations, n_points):
    """Per operating point, independent (not nested) detections: jittered copies of some references plus false alarms."""
    points = {}
    for k in range(n_points):
        rows = []
        for _ in range(n_points - k):  # false alarms, fewer at higher thresholds
            clip = str(rng.choice(list(durations)))
            onset = float(rng.uniform(0, durations[clip] - 1))
            rows.append((f"{clip}.wav", round(onset, 3), round(onset + rng.uniform(0.1, 1.0), 3), str(rng.choice(CLASSES))))
        hits = events.sample(frac=1 - k / n_points, random_state=int(rng.integers(1 << 30)))
        for f, on, off, label in hits.itertuples(index=False):
            onset = round(max(on + rng.normal(0, 0.2), 0), 3)
            rows.append((f, onset, round(max(off + rng.normal(0, 0.2), onset + 0.05), 3), label))
        table = pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])
        merged = merge_overlapping_events(table.assign(clip_id=[f[:-4] for f in table["filename"]]))
        points[round(0.1 + 0.8 * k / n_points, 3)] = merged.drop(columns="clip_id")
    return points


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(7)
    durations = {f"c{i}": float(rng.choice([10.0, 7.5])) for i in range(30)}
    rows = []
    for clip, duration_s in durations.items():
        for label in rng.choice(CLASSES, size=3):
            onset = float(np.round(rng.uniform(0, duration_s - 2), 3))
            rows.append((f"{clip}.wav", onset, round(onset + float(rng.uniform(0.5, 2)), 3), label))
    events = pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])
    events = merge_overlapping_events(events.assign(clip_id=[f[:-4] for f in events["filename"]])).drop(columns="clip_id")
    return events, durations, random_detections(rng, events, durations, 6)


@pytest.mark.parametrize("scenario", [PSDS1, PSDS2, PsdsSettings(dtc=0.3, gtc=0.5, cttc=0.2, alpha_ct=1.0, alpha_st=0.5, max_efpr=50)])
def test_event_lists_give_psds_eval_s_value(case, scenario):
    events, durations, detections = case
    ours = operating_point_psds(detections, events, durations, CLASSES, scenario)
    reference = psds_eval_psds(events, durations, list(detections.values()), dtc=scenario.dtc, gtc=scenario.gtc,
                               cttc=scenario.cttc, alpha_ct=scenario.alpha_ct, alpha_st=scenario.alpha_st,
                               max_efpr=scenario.max_efpr)
    assert ours.value == pytest.approx(reference, abs=1e-9) and reference > 0.05


def test_folder_and_threshold_column_read_the_same(tmp_path, case):
    events, durations, detections = case
    (tmp_path / "ops").mkdir()
    for threshold, table in detections.items():
        table.to_csv(tmp_path / "ops" / f"{threshold}.tsv", sep="\t", index=False)
    pd.concat([t.assign(threshold=th) for th, t in detections.items()]).to_csv(tmp_path / "one.tsv", sep="\t", index=False)
    events.to_csv(tmp_path / "gt.tsv", sep="\t", index=False)
    pd.DataFrame({"filename": [f"{c}.wav" for c in durations], "duration": list(durations.values())}).to_csv(
        tmp_path / "d.tsv", sep="\t", index=False)
    assert list(read_operating_points(tmp_path / "ops", CLASSES)) == sorted(detections)
    from_folder = operating_point_files_psds(tmp_path / "ops", tmp_path / "gt.tsv", tmp_path / "d.tsv", CLASSES)
    from_column = operating_point_files_psds(tmp_path / "one.tsv", tmp_path / "gt.tsv", tmp_path / "d.tsv", CLASSES)
    direct = operating_point_psds(detections, events, durations, CLASSES, PSDS2)
    assert from_folder[1].value == from_column[1].value == pytest.approx(direct.value, abs=1e-12)
    from tbfl.cli import main

    assert main(["evaluate", "--detections", str(tmp_path / "ops"), "--ground-truth", str(tmp_path / "gt.tsv"),
                 "--durations", str(tmp_path / "d.tsv"), "--classes", ",".join(CLASSES), "--out", str(tmp_path / "o.json")]) == 0
    written = json.loads((tmp_path / "o.json").read_text())
    assert written["psds1"] == from_folder[0].value and written["psds2"] == from_folder[1].value


def test_bad_detection_names_the_file(tmp_path):
    (tmp_path / "ops").mkdir()
    pd.DataFrame([("a.wav", 2.0, 1.0, "car")], columns=["filename", "onset", "offset", "event_label"]).to_csv(
        tmp_path / "ops" / "0.5.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match=r"0\.5\.tsv, line 2: detection a\.wav \[2\.0, 1\.0\] 'car' needs 0 <= onset < offset"):
        read_operating_points(tmp_path / "ops", CLASSES)


def test_overlapping_detections_of_a_class_are_refused_like_psds_eval(tmp_path):
    (tmp_path / "ops").mkdir()
    pd.DataFrame([("a.wav", 1.0, 3.0, "car"), ("a.wav", 2.0, 4.0, "car"), ("a.wav", 2.0, 4.0, "dog")],
                 columns=["filename", "onset", "offset", "event_label"]).to_csv(tmp_path / "ops" / "0.3.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match=r"0\.3\.tsv, line 3: detection a\.wav \[2\.0, 4\.0\] 'car' overlaps an earlier detection"):
        read_operating_points(tmp_path / "ops", CLASSES)
