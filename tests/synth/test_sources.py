"""Soundbank sources: per-class generators, speech (espeak-ng and the fallback), backgrounds, spectral cues."""

import warnings

import numpy as np
import pytest

from tbfl.constants import DESED_CLASSES
from tbfl.synth import dsp
from tbfl.synth.backgrounds import BACKGROUNDS
from tbfl.synth.figures import best_single_feature_accuracy, class_spectral_table
from tbfl.synth.generators import call_spans
from tbfl.synth.soundbank import SourceSpec, render_source
from tbfl.synth.speech import SpeechFallbackWarning, speech_backend

SR = 16000
BACKEND = speech_backend(warn=False)


def render(role, label, seed, seconds=2.0):
    return render_source(SourceSpec(role, "train", label, 0, int(seconds * SR), (seed, 7)), BACKEND)


def log_spectrum(x):
    power = np.abs(np.fft.rfft(x, 4096 * ((len(x) + 4095) // 4096))) ** 2
    bands = power[: len(power) // 64 * 64].reshape(64, -1).mean(axis=1)
    return 10 * np.log10(bands + 1e-12)


@pytest.mark.parametrize("label", DESED_CLASSES)
def test_each_class_differs_between_seeds_and_repeats_for_one_seed(label):
    a, how = render("foreground", label, 0)
    b, _ = render("foreground", label, 1)
    assert a.shape == b.shape == (2 * SR,)
    np.testing.assert_array_equal(a, render("foreground", label, 0)[0])
    # Not the same recording: different spectra, no time-shifted copy.
    assert np.mean(np.abs(log_spectrum(a) - log_spectrum(b))) > 1.0
    xcorr = np.fft.irfft(np.fft.rfft(a, 4 * SR) * np.conj(np.fft.rfft(b, 4 * SR)))
    assert np.max(np.abs(xcorr)) / (np.linalg.norm(a) * np.linalg.norm(b)) < 0.8
    # Loudness-normalised, no clipping, sound from the first 100 ms on.
    assert 20 * np.log10(dsp.active_rms(a)) == pytest.approx(-20, abs=1) and np.max(np.abs(a)) <= 0.99
    assert np.mean(a[: SR // 10] ** 2) > 1e-4 * np.max(dsp.active_rms(a) ** 2)
    assert how.startswith("tbfl.synth")


def test_speech_uses_espeak_when_installed():
    _, how = render("foreground", "Speech", 3)
    assert ("espeak-ng voice" in how) == (BACKEND == "espeak-ng")


def test_speech_falls_back_to_a_procedural_voice_with_one_warning(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name, *args, **kwargs: None)
    with pytest.warns(SpeechFallbackWarning, match="espeak-ng was not found") as record:
        backend = speech_backend()
    assert backend == "procedural" and len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rendering itself does not warn again
        voice, how = render_source(SourceSpec("foreground", "train", "Speech", 0, SR, (0, 1)), backend)
        other, _ = render_source(SourceSpec("foreground", "train", "Speech", 1, SR, (1, 1)), backend)
    assert "procedural formant voice" in how
    assert np.mean(np.abs(log_spectrum(voice) - log_spectrum(other))) > 1.0
    # Voiced speech: most energy below 4 kHz, and syllables (loudness varying over time).
    power = np.abs(np.fft.rfft(voice)) ** 2
    assert power[: len(power) // 2].sum() > 0.8 * power.sum()
    frames = (voice[: SR // 20 * 20].reshape(20, -1) ** 2).mean(axis=1)
    assert frames.max() > 10 * frames.min()


@pytest.mark.parametrize("kind", sorted(BACKGROUNDS))
def test_backgrounds_are_stationary_full_band_and_seeded(kind):
    a, _ = render("background", kind, 0, seconds=4.0)
    b, _ = render("background", kind, 1, seconds=4.0)
    assert not np.allclose(a, b)
    seconds = (a.reshape(4, -1) ** 2).mean(axis=1)
    assert seconds.max() < 4 * seconds.min()  # no events in a background
    power = np.abs(np.fft.rfft(a)) ** 2
    high = power[int(len(power) * 6 / 8) :].sum() / power.sum()
    assert high > 1e-6  # energy up to 8 kHz: no band-limited class cue


def test_no_class_is_recognisable_by_bandwidth_alone():
    table = class_spectral_table(n_per_class=6, seed=5, length_s=1.0, backend=BACKEND)
    for feature in ("centroid_hz", "bandwidth_hz", "rolloff95_hz"):
        accuracy = best_single_feature_accuracy(table, feature)
        assert accuracy.max() < 1.0, (feature, accuracy.idxmax())


def test_call_spans_cover_the_sound_from_start_to_end():
    rng = np.random.default_rng(0)
    for n_samples in (800, 8000, 40000, 160000):
        spans = call_spans(rng, n_samples, (0.1, 0.25), (0.08, 0.4))
        assert spans[0][0] == 0 and sum(spans[-1]) == n_samples
        assert all(start + length <= next_start for (start, length), (next_start, _) in zip(spans, spans[1:]))


def test_class_figure_is_a_real_png_grid(tmp_path, capsys):
    import matplotlib.image

    from tbfl.cli import main

    out = tmp_path / "figures" / "classes.png"
    assert main(["synth", "--figure", str(out), "--seed", "2"]) == 0
    assert str(out) in capsys.readouterr().out
    image = matplotlib.image.imread(out)
    assert image.shape[0] > 500 and image.shape[1] > 1400  # 2 x 5 panels, 17 x 6.5 in at 90 dpi
    assert image[..., :3].std() > 0.1
    assert not list(out.parent.glob(".*tmp*"))
