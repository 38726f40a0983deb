"""Score files with any grid sed_scores_eval reads (rounded times, offset start, irregular, mixed hops, any classes)
give sed_scores_eval's values."""

import numpy as np
import pandas as pd
import pytest

from tbfl.evaluation.evaluate import evaluate_files
from tbfl.evaluation.scores import read_score_tables

CLASSES = ["car", "dog", "siren"]


def grid(kind: str, rng: np.random.Generator) -> np.ndarray:
    """(n_frames + 1,) frame boundaries of one kind of grid, as the file writes them."""
    if kind == "hop_10_156_6_decimals":  # the hop of 16 kHz audio with 160-sample frames / 4, written rounded
        return np.round(np.arange(157) * 10 / 156, 6)
    if kind == "hop_0_06375_3_decimals":  # the DCASE2020 baseline's files
        return np.round(np.arange(157) * 0.06375, 3)
    if kind == "starts_at_half_second":
        return np.round(0.5 + np.arange(140) * 0.064, 6)
    if kind == "irregular":
        return np.round(np.concatenate([[0.0], np.cumsum(rng.uniform(0.02, 0.12, size=110))]), 4)
    raise ValueError(kind)


def write_case(directory, kinds, seed):
    """Score files (one grid kind per clip, cycling), strong labels and durations; returns their paths."""
    rng = np.random.default_rng(seed)
    scores_dir = directory / "scores"
    scores_dir.mkdir()
    events, durations = [], []
    for i in range(12):
        clip, times = f"clip{i:02d}", grid(kinds[i % len(kinds)], rng)
        n_frames, duration_s = len(times) - 1, float(times[-1])
        durations.append((f"{clip}.wav", duration_s))
        centre_s = (times[:-1] + times[1:]) / 2
        active = np.zeros((n_frames, len(CLASSES)))
        for c, label in enumerate(CLASSES):
            onset = float(np.round(rng.uniform(times[0], duration_s - 1.5), 3))
            if rng.random() < 0.8:
                offset = float(np.round(onset + rng.uniform(0.3, 1.4), 3))
                events.append((f"{clip}.wav", onset, offset, label))
                active[:, c] = (centre_s > onset + rng.normal(0, 0.1)) & (centre_s < offset + rng.normal(0, 0.1))
        noise = np.cumsum(rng.normal(scale=0.4, size=(n_frames, len(CLASSES))), axis=0)
        values = 1 / (1 + np.exp(-(3 * active - 1.5 + noise - noise.mean(axis=0))))
        table = pd.DataFrame(np.round(values, 4), columns=CLASSES)
        table.insert(0, "offset", times[1:])
        table.insert(0, "onset", times[:-1])
        table.to_csv(scores_dir / f"{clip}.tsv", sep="\t", index=False)
    gt = directory / "gt.tsv"
    pd.DataFrame(events, columns=["filename", "onset", "offset", "event_label"]).to_csv(gt, sep="\t", index=False)
    dur = directory / "durations.tsv"
    pd.DataFrame(durations, columns=["filename", "duration"]).to_csv(dur, sep="\t", index=False)
    return scores_dir, gt, dur, events, {clip[:-4]: d for clip, d in durations}


def sed_scores_eval_values(scores_dir, events, durations):
    """sed_scores_eval on the files as it reads them: threshold-free PSDS1/PSDS2, intersection and collar F1 at 0.5."""
    from sed_scores_eval import collar_based, intersection_based

    tables = {p.stem: pd.read_csv(p, sep="\t", float_precision="round_trip") for p in sorted(scores_dir.glob("*.tsv"))}
    reference = {clip: [] for clip in tables}
    for filename, onset, offset, label in events:
        reference[filename[:-4]].append((onset, offset, label))
    values = {}
    for name, (dtc, gtc, cttc, alpha_ct) in {"psds1": (0.7, 0.7, None, 0.0), "psds2": (0.1, 0.1, 0.3, 0.5)}.items():
        values[name] = intersection_based.psds(
            scores=tables, ground_truth=reference, audio_durations=durations, dtc_threshold=dtc, gtc_threshold=gtc,
            cttc_threshold=cttc, alpha_ct=alpha_ct, alpha_st=1.0, max_efpr=100.0, unit_of_time="hour",
        )[0]
    values["intersection_f1"] = intersection_based.fscore(tables, reference, 0.5, dtc_threshold=0.5, gtc_threshold=0.5)[0]["macro_average"]
    values["event_f1"] = collar_based.fscore(tables, reference, 0.5, onset_collar=0.2, offset_collar=0.2,
                                             offset_collar_rate=0.2)[0]["macro_average"]
    return values


KINDS = ["hop_10_156_6_decimals", "hop_0_06375_3_decimals", "starts_at_half_second", "irregular"]


@pytest.mark.parametrize("kinds", [[k] for k in KINDS] + [KINDS], ids=KINDS + ["mixed_hops"])
def test_any_grid_gives_sed_scores_eval_s_values(tmp_path, kinds):
    scores_dir, gt, dur, events, durations = write_case(tmp_path, kinds, seed=len(kinds[0]) + len(kinds))
    ours = evaluate_files(scores_dir, gt, dur, classes=None, median_filter_s=0.0)
    assert ours.settings.classes == tuple(CLASSES)
    reference = sed_scores_eval_values(scores_dir, events, durations)
    assert ours.psds1_threshold_free.value == pytest.approx(reference["psds1"], abs=1e-9)
    assert ours.psds2_threshold_free.value == pytest.approx(reference["psds2"], abs=1e-9)
    assert ours.intersection_f1.f1_macro == pytest.approx(reference["intersection_f1"], abs=1e-9)
    assert ours.event_f1.f1_macro == pytest.approx(reference["event_f1"], abs=1e-9)
    assert 0 < reference["psds2"] and 0 < reference["event_f1"]  # the case detects something


def test_read_score_tables_keeps_the_written_times(tmp_path):
    scores_dir, *_ = write_case(tmp_path, ["hop_0_06375_3_decimals"], seed=3)
    scores, times_s, classes = read_score_tables(scores_dir)
    assert classes == tuple(CLASSES) and scores["clip00"].shape == (3, 156)
    assert np.array_equal(times_s["clip00"], np.round(np.arange(157) * 0.06375, 3))


def test_a_gap_between_frames_names_the_line(tmp_path):
    (tmp_path / "s").mkdir()
    pd.DataFrame({"onset": [0.0, 0.1, 0.25], "offset": [0.1, 0.2, 0.3], "car": [0.1, 0.2, 0.3]}).to_csv(
        tmp_path / "s" / "a.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match=r"a\.tsv, line 4: onset differs from the previous frame's offset"):
        read_score_tables(tmp_path / "s")
