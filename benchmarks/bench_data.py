"""Data layer speed: validated TSV reading, label encoding, audio loading (ratios measured in this process).

Run: python benchmarks/bench_data.py   (uses the real DESED validation.tsv shipped with the tests,
and a generated 10,000-clip strong set).
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from tbfl.constants import DESED_CLASSES
from tbfl.data import StrongLabels, encode_strong, encode_strong_clips, frame_ratios, load_audio, read_strong_tsv, write_strong_tsv


def best_of(function, repeats: int = 5) -> float:
    """Fastest of ``repeats`` runs (s)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def generated_strong_set(n_clips: int, seed: int = 0) -> StrongLabels:
    """About 3 events per clip, DESED-like: random class, onset and length (ms resolution)."""
    rng = np.random.default_rng(seed)
    n_events = 3 * n_clips
    onset_s = np.round(rng.uniform(0, 9, n_events), 3)
    events = pd.DataFrame(
        {
            "filename": [f"{i:05d}.wav" for i in rng.integers(0, n_clips, n_events)],
            "onset": onset_s,
            "offset": np.minimum(np.round(onset_s + rng.uniform(0.1, 5, n_events), 3), 10.0),
            "event_label": rng.choice(DESED_CLASSES, n_events),
        }
    )
    return StrongLabels(events, filenames=tuple(f"{i:05d}.wav" for i in range(n_clips)))


def bench_tsv(path: Path, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # generated sets have same-class overlaps: merged with a warning
        validated = best_of(lambda: read_strong_tsv(path))
    bare = best_of(lambda: pd.read_csv(path, sep="\t"))
    print(f"{name}: read_strong_tsv {validated * 1e3:.1f} ms, bare pandas.read_csv {bare * 1e3:.1f} ms (validation costs x{validated / bare:.1f})")


def bench_encoding(labels: StrongLabels, name: str) -> None:
    batch = best_of(lambda: encode_strong_clips(labels), repeats=3)
    per_clip = best_of(lambda: [encode_strong(labels.for_clip(f)) for f in labels.filenames], repeats=1)
    ratios = best_of(lambda: frame_ratios(labels), repeats=3)
    print(
        f"{name}: encode_strong_clips {batch * 1e3:.1f} ms vs encode_strong per clip {per_clip * 1e3:.0f} ms "
        f"(x{per_clip / batch:.0f} faster); frame_ratios {ratios * 1e3:.1f} ms"
    )


def bench_audio(folder: Path) -> None:
    rng = np.random.default_rng(0)
    native = folder / "native.wav"
    sf.write(native, rng.uniform(-0.5, 0.5, 16000 * 10).astype(np.float32), 16000)
    stereo = folder / "stereo44k.wav"
    sf.write(stereo, rng.uniform(-0.5, 0.5, (44100 * 10, 2)).astype(np.float32), 44100)
    long_native = folder / "long.wav"
    sf.write(long_native, rng.uniform(-0.5, 0.5, 16000 * 120).astype(np.float32), 16000)
    t_native = best_of(lambda: load_audio(native), repeats=20)
    t_stereo = best_of(lambda: load_audio(stereo), repeats=10)
    t_cut = best_of(lambda: load_audio(long_native), repeats=10)
    t_whole = best_of(lambda: load_audio(long_native, duration_s=None), repeats=10)
    print(f"load_audio 10 s: 16 kHz mono {t_native * 1e3:.2f} ms, 44.1 kHz stereo (mix + soxr HQ) {t_stereo * 1e3:.2f} ms (x{t_stereo / t_native:.1f})")
    print(f"load_audio first 10 s of a 120 s 16 kHz file {t_cut * 1e3:.2f} ms vs whole file {t_whole * 1e3:.2f} ms (x{t_whole / t_cut:.1f})")


def main() -> None:
    metadata = Path(__file__).resolve().parent.parent / "tests" / "data" / "desed-metadata"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if (metadata / "validation.tsv").is_file():
            bench_tsv(metadata / "validation.tsv", "real validation.tsv (4,239 rows)")
            bench_encoding(read_strong_tsv(metadata / "validation.tsv"), "real validation (1,168 clips)")
        generated = generated_strong_set(10_000)
        write_strong_tsv(tmp / "generated.tsv", generated)
        bench_tsv(tmp / "generated.tsv", "generated strong set (10,000 clips, 30,000 events)")
        bench_encoding(generated, "generated strong set (10,000 clips)")
        bench_audio(tmp)


if __name__ == "__main__":
    main()
