"""Looking at the soundbank: a spectrogram per class, and spectral numbers per class.

Both render sources on the fly with the soundbank's own recipe
(``render_source``), so they show exactly what ``tbfl synth`` writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import signal

from tbfl.constants import DESED_CLASSES
from tbfl.io import atomic_path
from tbfl.synth.dsp import SR
from tbfl.synth.soundbank import SourceSpec, render_source, stable_id
from tbfl.synth.speech import speech_backend


def example_source(label: str, seed: int, length_s: float, backend: str) -> np.ndarray:
    """One foreground source of class ``label`` as the soundbank makes it, ``(length_s * 16000,)``."""
    spec = SourceSpec("foreground", "train", label, 0, int(length_s * SR), (seed, stable_id("example"), stable_id(label)))
    return render_source(spec, backend)[0]


def plot_class_examples(out_png: str | Path, seed: int = 0, length_s: float = 3.0, backend: str | None = None) -> Path:
    """Save a 2x5 grid of spectrograms (one example source per class, 0-8 kHz, dB) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backend = backend or speech_backend()
    fig, axes = plt.subplots(2, 5, figsize=(17, 6.5), sharex=True, sharey=True, constrained_layout=True)
    for ax, label in zip(axes.ravel(), DESED_CLASSES):
        audio = example_source(label, seed, length_s, backend)
        freqs_hz, times_s, power = signal.spectrogram(audio, SR, window="hann", nperseg=512, noverlap=384)
        level_db = 10 * np.log10(power + 1e-12)
        image = ax.pcolormesh(times_s, freqs_hz / 1000, level_db, vmin=level_db.max() - 80, vmax=level_db.max(), shading="auto", cmap="magma")
        ax.set_title(label.replace("_", " "), fontsize=11)
    for ax in axes[1]:
        ax.set_xlabel("time (s)")
    for ax in axes[:, 0]:
        ax.set_ylabel("frequency (kHz)")
    fig.colorbar(image, ax=axes, shrink=0.8, label="level (dB, relative)")
    fig.suptitle(f"tbfl.synth: one procedural source per class (seed {seed}, speech: {backend})")
    out_png = Path(out_png)
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return out_png


def spectral_features(audio: np.ndarray) -> dict[str, float]:
    """Spectral centroid, bandwidth (spread) and 95% roll-off (Hz) of the average power spectrum."""
    freqs_hz, power = signal.welch(audio, SR, nperseg=1024)
    weights = power / power.sum()
    centroid = float(np.sum(freqs_hz * weights))
    spread = float(np.sqrt(np.sum((freqs_hz - centroid) ** 2 * weights)))
    rolloff = float(freqs_hz[np.searchsorted(np.cumsum(weights), 0.95)])
    return {"centroid_hz": centroid, "bandwidth_hz": spread, "rolloff95_hz": rolloff}


def class_spectral_table(n_per_class: int = 8, seed: int = 0, length_s: float = 2.0, backend: str | None = None) -> pd.DataFrame:
    """Spectral features of ``n_per_class`` sources per class: one row per source (columns class, features)."""
    backend = backend or speech_backend()
    rows = []
    for label in DESED_CLASSES:
        for index in range(n_per_class):
            spec = SourceSpec("foreground", "train", label, index, int(length_s * SR), (seed, stable_id("spectral"), stable_id(label), index))
            rows.append({"class": label, **spectral_features(render_source(spec, backend)[0])})
    return pd.DataFrame(rows)


def best_single_feature_accuracy(table: pd.DataFrame, feature: str) -> pd.Series:
    """Per class, the best balanced accuracy of one threshold on ``feature`` telling the class from all others.

    1.0 means the class is recognisable by that feature alone; 0.5 means not at all.
    """
    scores = {}
    values = table[feature].to_numpy()
    for label in DESED_CLASSES:
        positive = (table["class"] == label).to_numpy()
        best = 0.5
        for threshold in np.unique(values):
            above = values >= threshold
            accuracy = 0.5 * (above[positive].mean() + (~above[~positive]).mean())
            best = max(best, accuracy, 1 - accuracy)
        scores[label] = best
    return pd.Series(scores, name=feature)
