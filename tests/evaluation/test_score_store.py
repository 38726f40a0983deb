"""The binary score store round-trips exactly and evaluates like the TSV folder."""

import numpy as np
import pytest

from tbfl.evaluation.scores import read_score_store, read_score_tables, write_score_store


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    scores = {"b": rng.random((3, 7)), "a": rng.random((3, 4)).astype(np.float32)}
    times_s = {"b": np.round(np.arange(8) * 10 / 156, 6), "a": np.array([0.5, 0.6, 0.75, 0.8, 1.0])}
    write_score_store(tmp_path / "s.npz", scores, times_s, ["x", "y", "z"])
    back, back_times, classes = read_score_store(tmp_path / "s.npz")
    assert classes == ("x", "y", "z") and list(back) == ["b", "a"]
    for clip in scores:
        assert np.array_equal(back[clip], scores[clip].astype(np.float64)) and np.array_equal(back_times[clip], times_s[clip])


def test_store_of_a_tsv_folder_gives_the_same_arrays(tmp_path, random_cases):
    from tbfl.evaluation.scores import write_scores

    case = random_cases[0]
    write_scores(tmp_path / "tsv", case.scores, case.classes, case.frame_hop_s)
    scores, times_s, classes = read_score_tables(tmp_path / "tsv")
    write_score_store(tmp_path / "s.npz", scores, times_s, classes)
    back, back_times, back_classes = read_score_store(tmp_path / "s.npz")
    assert back_classes == classes and all(np.array_equal(back[c], scores[c]) for c in scores)
    assert all(np.array_equal(back_times[c], times_s[c]) for c in scores)


def test_not_a_store_is_one_clear_error(tmp_path):
    (tmp_path / "x.npz").write_text("hello")
    with pytest.raises(ValueError, match=r"x\.npz: not a tbfl score store"):
        read_score_store(tmp_path / "x.npz")


def test_evaluate_reads_the_store_like_the_folder(tmp_path, random_cases):
    from tbfl.evaluation.evaluate import evaluate_files
    from tbfl.evaluation.scores import write_scores

    case = random_cases[2]
    write_scores(tmp_path / "tsv", case.scores, case.classes, case.frame_hop_s)
    scores, times_s, classes = read_score_tables(tmp_path / "tsv")
    reversed_classes = classes[::-1]
    write_score_store(tmp_path / "s.npz", {c: v[::-1] for c, v in scores.items()}, times_s, reversed_classes)
    case.events.to_csv(tmp_path / "gt.tsv", sep="\t", index=False)
    (tmp_path / "d.tsv").write_text("filename\tduration\n" + "".join(f"{c}.wav\t{d}\n" for c, d in case.durations.items()))
    from_folder = evaluate_files(tmp_path / "tsv", tmp_path / "gt.tsv", tmp_path / "d.tsv", case.classes)
    from_store = evaluate_files(tmp_path / "s.npz", tmp_path / "gt.tsv", tmp_path / "d.tsv", case.classes)
    assert from_store.to_dict() == from_folder.to_dict()


def test_reading_and_writing_hold_one_copy_of_the_scores(tmp_path):
    """Peak allocation while writing or reading 8 MB of scores stays well below two copies."""
    import tracemalloc

    rng = np.random.default_rng(1)
    scores = {f"clip{i}": rng.random((10, 500)) for i in range(200)}  # 8 MB of float64
    times_s = {clip: np.arange(501) * 0.064 for clip in scores}
    size = sum(v.nbytes for v in scores.values())
    tracemalloc.start()
    write_score_store(tmp_path / "s.npz", scores, times_s, [f"c{k}" for k in range(10)])
    _, write_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    back, _, _ = read_score_store(tmp_path / "s.npz")
    _, read_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert all(np.array_equal(back[clip], scores[clip]) for clip in scores)
    assert write_peak < 0.5 * size  # the scores themselves were allocated before tracing
    assert read_peak - before < 1.5 * size  # the result (1x), the times, one clip's block


def test_a_store_is_memory_mapped_and_evaluates_as_the_arrays(tmp_path, random_cases):
    """Reading allocates next to nothing (the scores stay in the file, mapped); the evaluation is the same."""
    import tracemalloc

    from tbfl.evaluation.evaluate import evaluate_scores

    rng = np.random.default_rng(2)
    scores = {f"clip{i}": rng.random((10, 500)) for i in range(200)}  # 8 MB of float64
    write_score_store(tmp_path / "big.npz", scores, {c: np.arange(501) * 0.064 for c in scores}, [f"c{k}" for k in range(10)])
    tracemalloc.start()
    back, _, _ = read_score_store(tmp_path / "big.npz")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.25 * sum(v.nbytes for v in scores.values())  # the boundaries (0.1x) and small arrays
    assert all(isinstance(v.base, np.memmap) and not v.flags.writeable for v in back.values())
    assert all(np.array_equal(back[clip], scores[clip]) for clip in scores)

    case = random_cases[0]
    times_s = {clip: np.arange(v.shape[1] + 1) * case.frame_hop_s for clip, v in case.scores.items()}
    write_score_store(tmp_path / "s.npz", case.scores, times_s, case.classes)
    back, back_times, classes = read_score_store(tmp_path / "s.npz")
    options = dict(frame_hop_s=case.frame_hop_s, segment_length_s=1.0, bootstrap=5)
    from_store = evaluate_scores(back, case.events, case.durations, classes, times_s=back_times, **options)
    from_arrays = evaluate_scores(case.scores, case.events, case.durations, case.classes, **options)
    assert from_store.to_dict() == from_arrays.to_dict()
