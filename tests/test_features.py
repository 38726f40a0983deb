import concurrent.futures
import multiprocessing
import os

import librosa
import numpy as np
import pytest
import scipy.signal
import soundfile as sf
import torch

from tbfl.features import FeatureCache, FeatureConfig, LogMel, compute_features, mel_filterbank, minmax_scale

SR = 16000
SHORT = FeatureConfig(clip_duration_s=1.0)  # 63 frames: fast cache tests


def noisy_tone(duration_s=10.0, seed=0, tone_hz=440.0):
    """White noise plus a tone starting at 30% of the clip: float32 (n_samples,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * SR)) / SR
    return (0.1 * rng.standard_normal(t.size) + 0.5 * np.sin(2 * np.pi * tone_hz * t) * (t > 0.3 * duration_s)).astype(np.float32)


def reference_log_mel(audio, config=FeatureConfig()):
    """The baseline's features from librosa's STFT and mel filters, in float64."""
    window = scipy.signal.get_window("hamming", config.win_length, fftbins=False)  # symmetric, as periodic=False
    magnitude = np.abs(
        librosa.stft(audio.astype(np.float64), n_fft=config.n_fft, hop_length=config.hop_length, window=window, center=True, pad_mode="reflect")
    )
    filters = librosa.filters.mel(
        sr=config.sample_rate_hz, n_fft=config.n_fft, n_mels=config.n_mels, fmin=config.f_min_hz, fmax=config.f_max_hz, htk=True, norm=None, dtype=np.float64
    )
    return np.clip(20 * np.log10(np.maximum(filters @ magnitude, config.amin)), config.db_min, config.db_max)


def write_clip(path, audio):
    sf.write(path, audio, SR, subtype="FLOAT")
    return path


# ---------------------------------------------------------------------------- log-mel


def test_ten_seconds_give_626_frames():
    config = FeatureConfig()
    assert (config.n_samples, config.n_frames) == (160000, 626)
    out = LogMel()(torch.zeros(2, 160000))
    assert out.shape == (2, 128, 626) and out.dtype == torch.float32


def test_filterbank_equals_librosa_htk_unnormalised():
    for config in (FeatureConfig(), FeatureConfig(n_fft=1024, win_length=1024, n_mels=64, f_min_hz=50.0, f_max_hz=7000.0)):
        expected = librosa.filters.mel(
            sr=config.sample_rate_hz, n_fft=config.n_fft, n_mels=config.n_mels, fmin=config.f_min_hz, fmax=config.f_max_hz, htk=True, norm=None
        ).T
        np.testing.assert_allclose(mel_filterbank(config), expected, atol=1e-6)


def test_log_mel_matches_librosa_computation():
    audio = noisy_tone()
    ours = compute_features(audio)
    expected = reference_log_mel(audio)
    assert ours.shape == expected.shape == (128, 626) and ours.dtype == np.float32
    assert np.abs(ours - expected).max() < 1e-4
    # the tone shows up: its band is louder after its onset than before
    band = np.argmax(mel_filterbank()[int(440 * 2048 / SR)])
    assert ours[band, 400:].mean() > ours[band, :100].mean() + 10


def test_batched_rows_equal_single_clips():
    clips = np.stack([noisy_tone(seed=1), noisy_tone(seed=2, tone_hz=2000.0)])
    batched = LogMel()(torch.from_numpy(clips)).numpy()
    for row, clip in zip(batched, clips):
        np.testing.assert_allclose(row, compute_features(clip), atol=1e-5)


def test_decibels_are_clamped_to_minus_50_and_80():
    assert np.all(compute_features(np.zeros(SR * 10, np.float32)) == -50.0)  # 20 log10(1e-5) = -100 -> -50
    loud = compute_features(100.0 * noisy_tone())
    assert loud.max() == 80.0 and loud.min() > -50.0
    assert (loud == 80.0).any() and (loud < 80.0).any()
    assert reference_log_mel(100.0 * noisy_tone(), FeatureConfig(db_max=1e9)).max() > 80.0  # the clamp did something


def test_minmax_scale_per_clip():
    x = torch.randn(3, 8, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = x * torch.tensor([1.0, 5.0, 30.0], dtype=torch.float64)[:, None, None] + torch.tensor([-40.0, 0.0, 60.0], dtype=torch.float64)[:, None, None]
    scaled = minmax_scale(x)
    flat = x.reshape(3, -1).numpy()
    expected = (flat - flat.min(1, keepdims=True)) / (flat.max(1, keepdims=True) - flat.min(1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(scaled.reshape(3, -1).numpy(), expected, rtol=1e-12)
    assert torch.all(scaled.amin(dim=(1, 2)) == 0) and torch.all(scaled.amax(dim=(1, 2)) < 1)
    assert torch.allclose(scaled.amax(dim=(1, 2)), torch.ones(3, dtype=torch.float64), atol=1e-8)
    torch.testing.assert_close(minmax_scale(2.5 * x - 7.0), scaled, atol=1e-8, rtol=0)  # invariant to gain and offset
    assert torch.all(minmax_scale(torch.full((1, 4, 5), -50.0)) == 0)  # a silent clip stays finite


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="mono waveform"):
        compute_features(np.zeros((2, SR), np.float32))
    with pytest.raises(ValueError, match="batch, samples"):
        LogMel()(torch.zeros(SR * 10))
    with pytest.raises(ValueError, match="batch, mels, frames"):
        minmax_scale(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="f_max_hz"):
        FeatureConfig(f_max_hz=9000.0)
    with pytest.raises(ValueError, match="win_length"):
        FeatureConfig(win_length=4096)


def test_config_key_is_stable_and_tracks_every_field():
    assert FeatureConfig().key() == FeatureConfig().key()
    assert len(FeatureConfig().key()) == 12
    keys = {FeatureConfig().key(), FeatureConfig(n_mels=64).key(), FeatureConfig(hop_length=320).key(), FeatureConfig(db_min=-80.0).key()}
    assert len(keys) == 4
    assert FeatureConfig(f_min_hz=0, f_max_hz=8000, clip_duration_s=10).key() == FeatureConfig().key()  # YAML ints


# ------------------------------------------------------------------------------ cache


def test_second_get_hits_and_a_later_run_hits_too(tmp_path):
    clip = write_clip(tmp_path / "a.wav", noisy_tone(1.0))
    cache = FeatureCache(tmp_path / "cache", SHORT)
    first = cache.get(clip)
    assert (cache.hits, cache.misses) == (0, 1)
    np.testing.assert_array_equal(first, compute_features(noisy_tone(1.0), SHORT))
    entry = cache.entry_path(clip)
    written_ns = entry.stat().st_mtime_ns

    second = cache.get(clip)
    assert (cache.hits, cache.misses) == (1, 1)
    assert isinstance(second, np.memmap) and not second.flags.writeable
    np.testing.assert_array_equal(second, first)

    later_run = FeatureCache(tmp_path / "cache", SHORT)
    np.testing.assert_array_equal(later_run.get(clip), first)
    assert (later_run.hits, later_run.misses) == (1, 0)
    assert entry.stat().st_mtime_ns == written_ns  # never rewritten
    assert entry.parent.parent.name == SHORT.key()


def test_touching_or_rewriting_the_file_invalidates(tmp_path):
    clip = write_clip(tmp_path / "a.wav", noisy_tone(1.0))
    cache = FeatureCache(tmp_path / "cache", SHORT)
    original = np.array(cache.get(clip))
    stat = clip.stat()
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    np.testing.assert_array_equal(cache.get(clip), original)  # same content, recomputed
    assert cache.misses == 2

    write_clip(clip, noisy_tone(1.0, seed=7, tone_hz=3000.0))
    changed = cache.get(clip)
    assert cache.misses == 3
    assert not np.allclose(changed, original)
    np.testing.assert_array_equal(changed, compute_features(noisy_tone(1.0, seed=7, tone_hz=3000.0), SHORT))


def test_changing_the_config_invalidates(tmp_path):
    clip = write_clip(tmp_path / "a.wav", noisy_tone(1.0))
    FeatureCache(tmp_path / "cache", SHORT).get(clip)
    other = FeatureCache(tmp_path / "cache", FeatureConfig(clip_duration_s=1.0, n_mels=64))
    assert other.get(clip).shape == (64, 63)
    assert (other.hits, other.misses) == (0, 1)


def test_clips_are_padded_or_cut_to_the_configured_length(tmp_path):
    cache = FeatureCache(tmp_path / "cache", SHORT)
    short = write_clip(tmp_path / "short.wav", noisy_tone(0.5))
    long = write_clip(tmp_path / "long.wav", noisy_tone(1.7))
    assert cache.get(short).shape == cache.get(long).shape == (128, 63)
    np.testing.assert_allclose(cache.get(long), compute_features(noisy_tone(1.7)[:SR], SHORT), atol=1e-5)


def test_fill_and_get_many(tmp_path):
    clips = [write_clip(tmp_path / f"{i}.wav", noisy_tone(1.0, seed=i)) for i in range(4)]
    cache = FeatureCache(tmp_path / "cache", SHORT)
    cache.get(clips[0])
    assert cache.fill(clips, progress=False) == 3
    assert cache.fill(clips, progress=False) == 0
    assert (cache.hits, cache.misses) == (5, 4)

    stack = cache.get_many(clips[::-1], progress=False)
    assert isinstance(stack, np.memmap) and stack.shape == (4, 128, 63) and stack.dtype == np.float32
    for row, clip in zip(stack, clips[::-1]):
        np.testing.assert_array_equal(row, cache.get(clip))
    again = FeatureCache(tmp_path / "cache", SHORT).get_many(clips[::-1], progress=False)
    assert again.filename == stack.filename
    assert cache.get_many([], progress=False).shape == (0, 128, 63)


def test_corrupt_entry_is_recomputed(tmp_path):
    clip = write_clip(tmp_path / "a.wav", noisy_tone(1.0))
    cache = FeatureCache(tmp_path / "cache", SHORT)
    good = np.array(cache.get(clip))
    cache.entry_path(clip).write_bytes(b"not an npy file")
    np.testing.assert_array_equal(cache.get(clip), good)
    assert cache.misses == 2
    np.testing.assert_array_equal(np.load(cache.entry_path(clip)), good)


def test_missing_audio_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.wav"):
        FeatureCache(tmp_path / "cache", SHORT).get(tmp_path / "nowhere.wav")


def _fill_in_a_worker(args):
    # One intra-op thread, as in a DataLoader worker: libgomp's thread pool does not survive fork.
    torch.set_num_threads(1)
    cache_dir, paths = args
    cache = FeatureCache(cache_dir, SHORT)
    return [np.array(cache.get(path)) for path in paths]


def test_concurrent_writers_do_not_corrupt(tmp_path):
    clips = [write_clip(tmp_path / f"{i}.wav", noisy_tone(1.0, seed=i)) for i in range(3)]
    cache_dir = tmp_path / "cache"
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(4, mp_context=context) as pool:
        results = list(pool.map(_fill_in_a_worker, [(cache_dir, clips)] * 8))
    cache = FeatureCache(cache_dir, SHORT)
    expected = [compute_features(noisy_tone(1.0, seed=i), SHORT) for i in range(3)]
    for worker_result in results:
        for got, want in zip(worker_result, expected):
            np.testing.assert_array_equal(got, want)
    for clip, want in zip(clips, expected):
        np.testing.assert_array_equal(cache.get(clip), want)
    assert (cache.hits, cache.misses) == (3, 0)
    leftovers = [p for p in cache_dir.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []
