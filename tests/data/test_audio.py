"""Audio loading on real files written with soundfile: rates, channels, lengths, broken files."""

import re

import numpy as np
import pytest
import soundfile as sf

from tbfl.data.audio import AudioError, audio_duration_s, load_audio


def sine(frequency_hz, duration_s, sample_rate):
    t = np.arange(int(round(duration_s * sample_rate))) / sample_rate
    return np.sin(2 * np.pi * frequency_hz * t).astype(np.float32)


def test_stereo_44k1_is_averaged_resampled_and_padded(tmp_path):
    path = tmp_path / "stereo.wav"
    tone = sine(440.0, 3.0, 44100)
    sf.write(path, np.stack([0.6 * tone, 0.2 * tone], axis=1), 44100, subtype="FLOAT")
    signal = load_audio(path)
    assert signal.shape == (160_000,) and signal.dtype == np.float32
    expected = 0.4 * sine(440.0, 3.0, 16000)
    middle = slice(1600, 48000 - 1600)  # away from the resampler's edges
    np.testing.assert_allclose(signal[middle], expected[middle], atol=2e-3)
    assert not signal[48_100:].any()
    assert audio_duration_s(path) == 3.0


def test_long_8k_mono_is_cut_or_kept(tmp_path):
    path = tmp_path / "long.flac"
    sf.write(path, 0.5 * sine(1000.0, 37.0, 8000), 8000)
    assert audio_duration_s(path) == 37.0
    cut = load_audio(path)
    kept = load_audio(path, duration_s=None)
    assert cut.shape == (160_000,) and kept.shape == (592_000,)
    np.testing.assert_array_equal(cut[:150_000], kept[:150_000])
    middle = slice(8000, 150_000)
    np.testing.assert_allclose(kept[middle], 0.5 * sine(1000.0, 37.0, 16000)[middle], atol=2e-3)
    assert load_audio(path, sample_rate=8000, duration_s=2.5).shape == (20_000,)


def test_same_rate_is_read_exactly(tmp_path):
    path = tmp_path / "clip.wav"
    data = np.random.default_rng(1).uniform(-1, 1, 16000 * 12).astype(np.float32)
    sf.write(path, data, 16000, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(path), data[:160_000])
    np.testing.assert_array_equal(load_audio(path, duration_s=None), data)
    pcm = tmp_path / "pcm16.wav"
    sf.write(pcm, data[:16000], 16000, subtype="PCM_16")
    np.testing.assert_array_equal(load_audio(pcm, duration_s=1.0), sf.read(pcm, dtype="float32")[0])


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.wav"
    for load in (load_audio, audio_duration_s):
        with pytest.raises(FileNotFoundError, match=re.escape(f"{path}: audio file not found")):
            load(path)


def test_broken_files_name_the_file_and_the_problem(tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(np.random.default_rng(2).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.wav"
    sf.write(tmp_path / "whole.wav", sine(440.0, 1.0, 16000), 16000)
    truncated.write_bytes((tmp_path / "whole.wav").read_bytes()[:30])
    for path in (garbage, empty, truncated):
        with pytest.raises(AudioError, match=re.escape(f"{path}: cannot read audio (")):
            load_audio(path)
        with pytest.raises(AudioError, match=re.escape(f"{path}: cannot read audio header (")):
            audio_duration_s(path)

    no_samples = tmp_path / "no_samples.wav"
    sf.write(no_samples, np.zeros((0, 1), dtype=np.float32), 16000)
    with pytest.raises(AudioError, match=re.escape(f"{no_samples}: contains no samples")):
        load_audio(no_samples)
    not_finite = tmp_path / "nan.wav"
    sf.write(not_finite, np.array([0.0, np.nan, 0.5], dtype=np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=re.escape(f"{not_finite}: contains NaN or infinite samples")):
        load_audio(not_finite)
    assert issubclass(AudioError, ValueError)
