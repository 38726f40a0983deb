"""Small signal helpers shared by the procedural generators (numpy/scipy only).

Signals are 1-D float64 arrays at ``SAMPLE_RATE_HZ``; frequencies are in Hz,
times in seconds, levels in dB.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from tbfl.constants import SAMPLE_RATE_HZ

SR = SAMPLE_RATE_HZ
NYQUIST_HZ = SR / 2


def time_axis(n_samples: int) -> np.ndarray:
    """Sample times in seconds, shape ``(n_samples,)``."""
    return np.arange(n_samples) / SR


def white(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Unit-variance white noise."""
    return rng.standard_normal(n_samples)


def coloured_noise(rng: np.random.Generator, n_samples: int, exponent: float) -> np.ndarray:
    """Noise with power spectrum ∝ f^-exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n_samples))
    freqs_hz = np.fft.rfftfreq(n_samples, 1 / SR)
    freqs_hz[0] = freqs_hz[1] if n_samples > 1 else 1.0
    noise = np.fft.irfft(spectrum / freqs_hz ** (exponent / 2), n_samples)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def bandpass(x: np.ndarray, low_hz: float, high_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth band-pass (zero-phase), edges clipped to (20 Hz, Nyquist)."""
    low_hz = float(np.clip(low_hz, 20.0, NYQUIST_HZ * 0.95))
    high_hz = float(np.clip(high_hz, low_hz * 1.05, NYQUIST_HZ * 0.99))
    sos = signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=SR, output="sos")
    return signal.sosfiltfilt(sos, x) if len(x) > 3 * (2 * order + 1) else x


def lowpass(x: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass (zero-phase)."""
    sos = signal.butter(order, min(cutoff_hz, NYQUIST_HZ * 0.99), btype="lowpass", fs=SR, output="sos")
    return signal.sosfiltfilt(sos, x) if len(x) > 3 * (2 * order + 1) else x


def highpass(x: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth high-pass (zero-phase)."""
    sos = signal.butter(order, max(cutoff_hz, 20.0), btype="highpass", fs=SR, output="sos")
    return signal.sosfiltfilt(sos, x) if len(x) > 3 * (2 * order + 1) else x


def resonator(x: np.ndarray, centre_hz: float, bandwidth_hz: float) -> np.ndarray:
    """Two-pole resonance (formant) at ``centre_hz`` with ``bandwidth_hz``, unit peak gain."""
    r = np.exp(-np.pi * bandwidth_hz / SR)
    theta = 2 * np.pi * min(centre_hz, NYQUIST_HZ * 0.98) / SR
    a = [1.0, -2 * r * np.cos(theta), r * r]
    b = [(1 - r * r) / 2, 0.0, -(1 - r * r) / 2]
    return signal.lfilter(b, a, x)


def smooth_random(rng: np.random.Generator, n_samples: int, rate_hz: float) -> np.ndarray:
    """A slowly varying random curve in about [-1, 1] with changes at ``rate_hz``."""
    n_knots = max(2, int(np.ceil(n_samples / SR * rate_hz)) + 2)
    knots = rng.uniform(-1, 1, n_knots)
    return np.interp(np.linspace(0, n_knots - 1, n_samples), np.arange(n_knots), knots)


def phase(freq_hz: np.ndarray | float, n_samples: int) -> np.ndarray:
    """Running phase (radians) of a tone whose frequency may vary per sample."""
    freq = np.broadcast_to(np.asarray(freq_hz, dtype=float), (n_samples,))
    return 2 * np.pi * np.cumsum(freq) / SR


def harmonics(freq_hz: np.ndarray | float, n_samples: int, amplitudes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sum of harmonics k*f0 (k = 1..len(amplitudes)) with random phases; partials above Nyquist are dropped."""
    base = phase(freq_hz, n_samples)
    f0 = np.broadcast_to(np.asarray(freq_hz, dtype=float), (n_samples,))
    out = np.zeros(n_samples)
    for k, amplitude in enumerate(amplitudes, start=1):
        audible = k * f0 < NYQUIST_HZ * 0.95
        out += amplitude * audible * np.sin(k * base + rng.uniform(0, 2 * np.pi))
    return out


def pulse_train(freq_hz: np.ndarray | float, n_samples: int, duty: float = 0.1) -> np.ndarray:
    """Narrow rectangular pulses (duty cycle ``duty``) at a possibly varying rate, zero mean."""
    cycles = phase(freq_hz, n_samples) / (2 * np.pi)
    pulses = (np.mod(cycles, 1.0) < duty).astype(float)
    return pulses - pulses.mean()


def formant_gain(freq_hz: np.ndarray, formants_hz: list, bandwidths_hz: list) -> np.ndarray:
    """Magnitude of a cascade-free formant filter (sum of resonance peaks) at ``freq_hz``."""
    gain = np.zeros_like(freq_hz, dtype=float)
    for centre, bandwidth in zip(formants_hz, bandwidths_hz):
        gain += 1.0 / np.sqrt(1.0 + ((freq_hz - centre) / (bandwidth / 2)) ** 2)
    return gain


def voiced(
    f0_hz: np.ndarray,
    formants_hz: list,
    bandwidths_hz: list,
    rng: np.random.Generator,
    slope_db_per_octave: float = -12.0,
    n_harmonics: int = 40,
) -> np.ndarray:
    """Harmonic source on the pitch track ``f0_hz`` (shape ``(n,)``) shaped by moving formants.

    ``formants_hz`` holds one frequency (float or ``(n,)`` array) per formant; each
    harmonic's amplitude follows the formant filter at its own frequency over time.
    """
    n_samples = len(f0_hz)
    base = phase(f0_hz, n_samples)
    # Amplitudes change slowly: evaluate them every millisecond and hold.
    hop = SR // 1000
    f0_coarse = f0_hz[::hop]
    formants_coarse = [np.asarray(f)[::hop] if np.ndim(f) else f for f in formants_hz]
    out = np.zeros(n_samples)
    for k in range(1, n_harmonics + 1):
        freq = k * f0_coarse
        if np.min(freq) >= NYQUIST_HZ * 0.95:
            break
        amplitude = 10 ** (slope_db_per_octave * np.log2(k) / 20) * formant_gain(freq, formants_coarse, bandwidths_hz) * (freq < NYQUIST_HZ * 0.95)
        out += np.repeat(amplitude, hop)[:n_samples] * np.sin(k * base + rng.uniform(0, 2 * np.pi))
    return out


def damped_modes(n_samples: int, freqs_hz: np.ndarray, decays_s: np.ndarray, amps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sum of exponentially decaying sinusoids (struck object), shape ``(n_samples,)``."""
    t = time_axis(n_samples)
    out = np.zeros(n_samples)
    for freq, decay, amp in zip(freqs_hz, decays_s, amps):
        if freq < NYQUIST_HZ * 0.97:
            out += amp * np.exp(-t / decay) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    return out


def scatter_add(out: np.ndarray, starts: np.ndarray, grains: list[np.ndarray]) -> np.ndarray:
    """Add each grain into ``out`` at its start sample (grains running past the end are cut)."""
    for start, grain in zip(starts, grains):
        stop = min(len(out), start + len(grain))
        if stop > start:
            out[start:stop] += grain[: stop - start]
    return out


def fade(x: np.ndarray, in_s: float = 0.005, out_s: float = 0.01) -> np.ndarray:
    """Copy of ``x`` with raised-cosine fade-in and fade-out of the given lengths."""
    x = np.array(x, dtype=float)
    n_in = min(int(in_s * SR), len(x) // 2)
    n_out = min(int(out_s * SR), len(x) // 2)
    x[:n_in] *= 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n_in))
    x[len(x) - n_out :] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n_out))
    return x


def envelope_ad(n_samples: int, attack_s: float, decay_s: float) -> np.ndarray:
    """Attack-decay envelope: linear attack then exponential decay, peak 1."""
    t = time_axis(n_samples)
    attack = np.clip(t / max(attack_s, 1e-4), 0, 1)
    return attack * np.exp(-np.maximum(t - attack_s, 0) / decay_s)


def room_reverb(x: np.ndarray, rng: np.random.Generator, rt60_s: float, wet: float) -> np.ndarray:
    """Add a synthetic room (exponentially decaying noise impulse response), same length as ``x``."""
    n_ir = max(8, int(rt60_s * SR))
    t = time_axis(n_ir)
    ir = rng.standard_normal(n_ir) * np.exp(-6.9 * t / rt60_s)
    ir = lowpass(ir, rng.uniform(4000, 7800))
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    tail = signal.fftconvolve(x, ir)[: len(x)]
    return (1 - wet) * x + wet * tail * (np.sqrt(np.mean(x**2)) / (np.sqrt(np.mean(tail**2)) + 1e-12))


def spectral_tilt(x: np.ndarray, db_per_octave: float) -> np.ndarray:
    """Tilt the spectrum by ``db_per_octave`` around 1 kHz (a microphone/room colouring)."""
    spectrum = np.fft.rfft(x)
    freqs_hz = np.maximum(np.fft.rfftfreq(len(x), 1 / SR), 50.0)
    gain = 10 ** (db_per_octave * np.log2(freqs_hz / 1000.0) / 20)
    return np.fft.irfft(spectrum * gain, len(x))


def active_rms(x: np.ndarray, frame_s: float = 0.05, range_db: float = 30.0) -> float:
    """RMS over the frames within ``range_db`` of the loudest one (loudness of the active part)."""
    n_frame = max(1, int(frame_s * SR))
    n_frames = max(1, len(x) // n_frame)
    frames = x[: n_frames * n_frame].reshape(n_frames, -1) if len(x) >= n_frame else x.reshape(1, -1)
    power = np.mean(frames**2, axis=1)
    if power.max() <= 0:
        return 0.0
    active = power >= power.max() * 10 ** (-range_db / 10)
    return float(np.sqrt(np.mean(power[active])))


def soft_limit(x: np.ndarray, knee: float = 0.5, ceiling: float = 0.99) -> np.ndarray:
    """Leave ``|x| <= knee`` untouched and bend larger peaks smoothly (tanh) below ``ceiling``."""
    magnitude = np.abs(x)
    over = magnitude > knee
    room = ceiling - knee
    limited = knee + room * np.tanh((magnitude[over] - knee) / room)
    out = np.array(x, dtype=float)
    out[over] = np.sign(x[over]) * limited
    return out


def normalise(x: np.ndarray, rms_dbfs: float = -20.0, peak: float = 0.99) -> np.ndarray:
    """Scale ``x`` so its active RMS is ``rms_dbfs``; rare peaks above half scale are soft-limited below ``peak``.

    The limiter touches only sounds with a crest factor above ~14 dB (crackles,
    impacts), as a recording engineer's limiter would, so every class keeps the same loudness.
    """
    level = active_rms(x)
    if level <= 0:
        return np.zeros_like(x)
    return soft_limit(x * (10 ** (rms_dbfs / 20) / level), knee=0.5, ceiling=peak)
