"""tbfl evaluate --plots: three PNGs; the per-class curves drawn are the ones whose areas are the per-class PSDS."""

import numpy as np
import pytest

from tbfl.cli import main
from tbfl.evaluation.evaluate import evaluate_scores
from tbfl.evaluation.scores import write_scores


def test_per_class_rocs_have_the_per_class_psds_as_area(random_cases):
    case = random_cases[0]
    result = evaluate_scores(case.scores, case.events, case.durations, case.classes, frame_hop_s=case.frame_hop_s)
    for psds, max_efpr in ((result.psds1_threshold_free, 100.0), (result.psds2_threshold_free, 100.0)):
        for c, (efpr, tpr) in enumerate(psds.class_rocs):
            area = np.sum(tpr * np.diff(np.append(efpr, max_efpr))) / max_efpr
            assert area == pytest.approx(psds.per_class[c], abs=1e-12)


def test_cli_writes_three_pngs(tmp_path, random_cases, capsys):
    case = random_cases[1]
    write_scores(tmp_path / "scores", case.scores, case.classes, case.frame_hop_s)
    case.events.to_csv(tmp_path / "gt.tsv", sep="\t", index=False)
    (tmp_path / "d.tsv").write_text("filename\tduration\n" + "".join(f"{c}.wav\t{d}\n" for c, d in case.durations.items()))
    assert main(["evaluate", "--scores", str(tmp_path / "scores"), "--ground-truth", str(tmp_path / "gt.tsv"),
                 "--durations", str(tmp_path / "d.tsv"), "--no-progress", "--plots", str(tmp_path / "plots")]) == 0
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["event_f1_vs_threshold.png", "psd_roc.png", "psd_roc_per_class.png"]
    assert all((tmp_path / "plots" / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    assert capsys.readouterr().out.count("wrote ") == 3
