"""Procedural sound generators for nine DESED classes (Speech lives in ``speech.py``).

Each generator is ``fn(rng, n_samples) -> (n_samples,) float64`` at 16 kHz: a
sound that starts at sample 0 and lasts to the end, at an arbitrary level (the
soundbank normalises loudness afterwards). Every generator draws its own timbre
(pitch, partials, rates, envelopes) from ``rng`` so that two seeds give two
different recordings of the same kind of sound. The recipes follow
``reference/sound-sources.md`` (checked by spectrogram).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import signal

from tbfl.synth import dsp
from tbfl.synth.dsp import SR

Generator = Callable[[np.random.Generator, int], np.ndarray]


def call_spans(rng: np.random.Generator, n_samples: int, call_s: tuple[float, float], gap_s: tuple[float, float]) -> list[tuple[int, int]]:
    """Split ``n_samples`` into calls separated by gaps: ``[(start, length), ...]``.

    The first call starts at 0 and the last one ends at ``n_samples``.
    """
    duration_s = n_samples / SR
    mean_call, mean_gap = np.mean(call_s), np.mean(gap_s)
    n_calls = max(1, int(round((duration_s + mean_gap) / (mean_call + mean_gap) * rng.uniform(0.8, 1.2))))
    if n_calls == 1:
        return [(0, n_samples)]
    calls = rng.uniform(*call_s, n_calls)
    calls *= min(1.0, 0.8 * duration_s / calls.sum())
    gaps = rng.dirichlet(np.ones(n_calls - 1)) * (duration_s - calls.sum())
    starts = np.concatenate([[0.0], np.cumsum(calls[:-1] + gaps)])
    spans = [(int(start * SR), int(call * SR)) for start, call in zip(starts, calls)]
    last_start = spans[-1][0]
    spans[-1] = (last_start, n_samples - last_start)
    return spans


def _gate(n_samples: int, on: np.ndarray, ramp_s: float = 0.003) -> np.ndarray:
    """Smooth an on/off gate (boolean per sample) with ``ramp_s`` ramps."""
    n_ramp = max(1, int(ramp_s * SR))
    kernel = np.hanning(2 * n_ramp + 1)
    return np.convolve(on.astype(float), kernel / kernel.sum(), mode="same")[:n_samples]


# --- Alarm_bell_ringing -------------------------------------------------------


def _beeper(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    t = dsp.time_axis(n_samples)
    freq_hz = rng.uniform(900, 4000)
    tones = [freq_hz, freq_hz * rng.uniform(0.7, 0.92)] if rng.random() < 0.4 else [freq_hz]
    on_s, off_s = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
    period_s = on_s + off_s
    beep_index = np.floor(t / period_s).astype(int)
    on = np.mod(t, period_s) < on_s
    if rng.random() < 0.5:  # groups of beeps separated by a pause
        group = rng.integers(2, 6)
        on &= np.mod(beep_index, group + 1) < group
    freq = np.asarray(tones)[np.mod(beep_index, len(tones))]
    squareness = rng.uniform(0, 1)
    amps = np.array([1.0 if k == 1 else squareness / k if k % 2 else 0.15 * squareness / k for k in range(1, 12)])
    return dsp.harmonics(freq, n_samples, amps, rng) * _gate(n_samples, on)


def _electric_bell(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    t = dsp.time_axis(n_samples)
    f0 = rng.uniform(350, 1200)
    ratios = np.array([1.0, 2.76, 5.40, 8.93]) * rng.uniform(0.97, 1.03, 4)
    kernel_n = int(0.6 * SR)
    kernel = dsp.damped_modes(kernel_n, f0 * ratios, rng.uniform(0.05, 0.4, 4), rng.uniform(0.3, 1.0, 4), rng)
    strike_hz = rng.uniform(15, 25)
    ring_s, pause_s = rng.uniform(0.4, 2.0), rng.uniform(0.2, 1.0)
    ringing = np.mod(t, ring_s + pause_s) < ring_s
    strikes = np.zeros(n_samples)
    strike_idx = np.arange(0, n_samples, int(SR / strike_hz))
    strikes[strike_idx] = ringing[strike_idx] * rng.uniform(0.7, 1.0, len(strike_idx))
    return signal.fftconvolve(strikes, kernel)[:n_samples]


def _phone_ring(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    t = dsp.time_axis(n_samples)
    f1 = rng.uniform(400, 1100)
    tone = np.sin(2 * np.pi * f1 * t) + np.sin(2 * np.pi * f1 * rng.uniform(1.05, 1.3) * t)
    tone += rng.uniform(0, 0.5) * np.sin(2 * np.pi * 3 * f1 * t)
    trill = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * rng.uniform(15, 25) * t)) if rng.random() < 0.6 else 1.0
    ring_s, pause_s = rng.uniform(0.3, 1.0), rng.uniform(0.15, 0.6)
    on = np.mod(t, ring_s + pause_s) < ring_s
    return tone * trill * _gate(n_samples, on)


def _chime(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    out = np.zeros(n_samples)
    f0 = rng.uniform(400, 1500)
    ratios = np.array([1.0, 2.0, 3.0, 4.2, 5.4]) * rng.uniform(0.98, 1.02, 5)
    interval_s = rng.uniform(0.25, 0.8)
    notes = f0 * rng.choice([1.0, 0.84, 0.79, 0.75, 0.67], size=max(1, int(n_samples / SR / interval_s) + 1))
    for i, note in enumerate(notes):
        start = int(i * interval_s * SR)
        if start >= n_samples:
            break
        grain = dsp.damped_modes(n_samples - start, note * ratios, rng.uniform(0.2, 1.5, 5), 0.6 ** np.arange(5), rng)
        out[start:] += grain
    return out


def alarm_bell_ringing(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """A beeper, an electric bell, a phone ring or a chime; pitch, cadence and timbre vary."""
    kind = rng.choice([_beeper, _electric_bell, _phone_ring, _chime], p=[0.35, 0.25, 0.25, 0.15])
    return kind(rng, n_samples)


# --- Blender ------------------------------------------------------------------


def blender(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Motor harmonics (150-400 Hz) drifting with a random load, dipping on hits, plus grinding noise."""
    t = dsp.time_axis(n_samples)
    motor_hz = rng.uniform(150, 400)
    load = dsp.smooth_random(rng, n_samples, rng.uniform(0.5, 3.0))
    dips = np.zeros(n_samples)
    n_hits = rng.poisson(rng.uniform(0.5, 3.0) * n_samples / SR)
    for start in rng.integers(0, n_samples, n_hits):
        dips[start:] += rng.uniform(0.05, 0.25) * np.exp(-(t[: n_samples - start]) / rng.uniform(0.1, 0.4))
    ramp_up = np.clip(t / rng.uniform(0.1, 0.5), 0, 1)
    ramp_down = np.clip((t[-1] - t) / rng.uniform(0.1, 0.4), 0, 1)
    speed = (0.3 + 0.7 * ramp_up) * (0.3 + 0.7 * ramp_down) * (1 + 0.08 * load) * (1 - np.minimum(dips, 0.5))
    amps = np.arange(1, 31) ** -rng.uniform(0.5, 1.5) * rng.uniform(0.3, 1.0, 30)
    motor = dsp.harmonics(motor_hz * speed, n_samples, amps, rng)
    centre_hz = rng.uniform(800, 4000)
    noise = dsp.bandpass(dsp.white(rng, n_samples), centre_hz / 2, centre_hz * 2)
    chop = 1 + rng.uniform(0.2, 0.8) * np.sin(dsp.phase(motor_hz * speed / rng.uniform(2, 6), n_samples))
    noise *= chop * (0.6 + 0.4 * load)
    noise += 0.2 * dsp.highpass(dsp.white(rng, n_samples), 3000)
    motor_to_noise = 10 ** (rng.uniform(-6, 12) / 20)
    return (motor / np.std(motor) * motor_to_noise + noise / np.std(noise)) * np.minimum(ramp_up, ramp_down) ** 0.5


# --- Cat ----------------------------------------------------------------------


def _contour(n_samples: int, points: list[float], positions: list[float]) -> np.ndarray:
    """Smooth (cosine-interpolated) curve through ``points`` at relative ``positions`` in [0, 1]."""
    x = np.linspace(0, 1, n_samples)
    out = np.empty(n_samples)
    for (p0, p1), (v0, v1) in zip(zip(positions[:-1], positions[1:]), zip(points[:-1], points[1:])):
        inside = (x >= p0) & (x <= p1)
        w = 0.5 - 0.5 * np.cos(np.pi * (x[inside] - p0) / max(p1 - p0, 1e-9))
        out[inside] = v0 + (v1 - v0) * w
    return out


def _meow(rng: np.random.Generator, n_samples: int, voice: dict) -> np.ndarray:
    start = voice["f0_hz"] * rng.uniform(0.85, 1.15)
    peak, end = start * rng.uniform(1.3, 2.0), start * rng.uniform(0.8, 1.3)
    f0 = _contour(n_samples, [start, peak, end], [0.0, rng.uniform(0.25, 0.6), 1.0])
    t = dsp.time_axis(n_samples)
    f0 *= 1 + 0.015 * np.sin(2 * np.pi * rng.uniform(5, 8) * t) + 0.01 * dsp.smooth_random(rng, n_samples, 30)
    scale = voice["formant_scale"]
    f1 = _contour(n_samples, [400, rng.uniform(900, 1300), rng.uniform(600, 800)], [0.0, rng.uniform(0.2, 0.5), 1.0]) * scale
    f2 = _contour(n_samples, [1400, rng.uniform(1800, 2500), 1200], [0.0, 0.4, 1.0]) * scale
    tone = dsp.voiced(f0, [f1, f2, 3500 * scale, 6000 * scale], [200, 300, 500, 1200], rng, voice["slope"])
    breath = dsp.bandpass(dsp.white(rng, n_samples), 2000, 7500) * voice["breath"]
    env = dsp.envelope_ad(n_samples, rng.uniform(0.02, 0.08), 10.0) * dsp.fade(np.ones(n_samples), 0.0, rng.uniform(0.05, 0.2))
    return (tone / (np.std(tone) + 1e-12) + breath) * env


def _hiss(rng: np.random.Generator, n_samples: int, voice: dict) -> np.ndarray:
    noise = dsp.bandpass(dsp.white(rng, n_samples), rng.uniform(1500, 3000), rng.uniform(6000, 7800))
    return noise * dsp.envelope_ad(n_samples, 0.01, rng.uniform(0.2, 0.6))


def cat(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Meows: harmonic calls whose pitch rises then falls through moving formants; sometimes a hiss."""
    voice = {
        "f0_hz": rng.uniform(250, 550),
        "formant_scale": rng.uniform(0.85, 1.25),
        "slope": rng.uniform(-14, -6),
        "breath": rng.uniform(0.05, 0.4),
    }
    out = np.zeros(n_samples)
    for i, (start, length) in enumerate(call_spans(rng, n_samples, (0.5, 1.5), (0.15, 0.6))):
        call = _hiss if i > 0 and rng.random() < 0.08 else _meow
        out[start : start + length] += call(rng, length, voice)
    return out


# --- Dishes -------------------------------------------------------------------


def dishes(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Clinks: Poisson impacts of 1-3 objects, each a few damped inharmonic modes plus a contact click."""
    objects = []
    for _ in range(rng.integers(1, 4)):
        n_modes = rng.integers(3, 8)
        base_hz = rng.uniform(300, 4000)
        objects.append((base_hz * np.sort(rng.uniform(1.0, 4.0, n_modes)), rng.uniform(0.02, 0.3, n_modes), rng.uniform(0.2, 1.0, n_modes)))
    rate_hz = rng.uniform(2, 8)
    starts = [0]
    while True:
        nxt = starts[-1] + int(rng.exponential(1 / rate_hz) * SR) + int(0.02 * SR)
        if nxt >= n_samples - int(0.02 * SR):
            break
        starts.append(nxt)
    out = np.zeros(n_samples)
    for start in starts:
        freqs, decays, amps = objects[rng.integers(len(objects))]
        length = min(n_samples - start, int(8 * decays.max() * SR) + 1)
        ring = dsp.damped_modes(length, freqs * rng.uniform(0.97, 1.03, len(freqs)), decays * rng.uniform(0.7, 1.3, len(decays)), amps, rng)
        n_click = min(length, int(rng.uniform(0.001, 0.004) * SR))
        ring[:n_click] += rng.uniform(0.5, 2.0) * dsp.highpass(rng.standard_normal(n_click), 2000, order=1) * np.hanning(n_click)
        out[start : start + length] += ring * rng.lognormal(0, 0.5)
    if rng.random() < 0.3:  # scraping between impacts
        scrape = dsp.bandpass(dsp.white(rng, n_samples), rng.uniform(1500, 3000), rng.uniform(5000, 7800))
        out += scrape * (0.5 + 0.5 * dsp.smooth_random(rng, n_samples, 6)) * rng.uniform(0.05, 0.2)
    return out


# --- Dog ----------------------------------------------------------------------


def _bark(rng: np.random.Generator, n_samples: int, dog: dict) -> np.ndarray:
    t = dsp.time_axis(n_samples)
    f0_start = dog["f0_hz"] * rng.uniform(0.9, 1.1)
    f0 = f0_start * (1 - rng.uniform(0.2, 0.45) * t / max(t[-1], 1e-3))
    if dog["rough"]:
        f0 *= 1 + 0.08 * np.sign(np.sin(np.pi * dsp.phase(f0, n_samples) / (2 * np.pi)))
    scale = dog["formant_scale"]
    tone = dsp.voiced(f0, [700 * scale, 1700 * scale, 3200 * scale], [250, 400, 700], rng, dog["slope"])
    noise = dsp.bandpass(dsp.white(rng, n_samples), 500 * scale, 7500)
    body = tone / (np.std(tone) + 1e-12) + dog["noise"] * noise / (np.std(noise) + 1e-12)
    return body * dsp.envelope_ad(n_samples, rng.uniform(0.002, 0.008), rng.uniform(0.04, 0.12))


def _growl(rng: np.random.Generator, n_samples: int, dog: dict) -> np.ndarray:
    f0 = dog["f0_hz"] * rng.uniform(0.2, 0.35) * (1 + 0.05 * dsp.smooth_random(rng, n_samples, 8))
    pulses = dsp.pulse_train(f0, n_samples, 0.2)
    tone = dsp.resonator(pulses, 500 * dog["formant_scale"], 300) + 0.5 * dsp.resonator(pulses, 1400 * dog["formant_scale"], 500)
    noise = dsp.bandpass(dsp.white(rng, n_samples), 300, 4000) * 0.3
    return (tone / (np.std(tone) + 1e-12) + noise) * dsp.fade(np.ones(n_samples), 0.05, 0.1)


def dog(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Barks of 100-250 ms with falling pitch through formants near 700/1700 Hz; dog size varies; sometimes a growl."""
    size = rng.uniform(0, 1)  # 0 small, 1 large
    dog_voice = {
        "f0_hz": 700 - 400 * size + rng.uniform(-50, 50),
        "formant_scale": 1.4 - 0.6 * size,
        "slope": rng.uniform(-12, -5),
        "noise": rng.uniform(0.2, 0.8),
        "rough": rng.random() < 0.4,
    }
    out = np.zeros(n_samples)
    for start, length in call_spans(rng, n_samples, (0.1, 0.25), (0.08, 0.4)):
        call = _growl if length > 0.6 * SR and rng.random() < 0.5 else _bark
        out[start : start + length] += call(rng, length, dog_voice)
    return out


# --- Electric_shaver_toothbrush -----------------------------------------------


def electric_shaver_toothbrush(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """A buzzing pulse train (shaver 90-160 Hz, toothbrush 180-280 Hz) with wobble, strokes and friction noise."""
    is_toothbrush = rng.random() < 0.5
    f0_hz = rng.uniform(180, 280) if is_toothbrush else rng.uniform(90, 160)
    wobble = 1 + rng.uniform(0.005, 0.03) * dsp.smooth_random(rng, n_samples, rng.uniform(2, 8))
    load = 1 - rng.uniform(0.0, 0.08) * (0.5 + 0.5 * dsp.smooth_random(rng, n_samples, rng.uniform(0.5, 2)))
    buzz = dsp.pulse_train(f0_hz * wobble * load, n_samples, rng.uniform(0.3, 0.5) if is_toothbrush else rng.uniform(0.04, 0.2))
    for _ in range(rng.integers(1, 4)):  # plastic body resonances
        buzz += 0.5 * dsp.resonator(buzz, rng.uniform(1000, 5000), rng.uniform(100, 600))
    t = dsp.time_axis(n_samples)
    strokes = 1 + rng.uniform(0.2, 0.6) * np.sin(2 * np.pi * rng.uniform(1, 4) * t + rng.uniform(0, 2 * np.pi))
    friction = dsp.highpass(dsp.white(rng, n_samples), rng.uniform(2500, 6000)) * rng.uniform(0.1, 0.5)
    spin_up = np.clip(t / rng.uniform(0.02, 0.1), 0, 1)
    return (buzz / (np.std(buzz) + 1e-12) + friction * (strokes - 0.5)) * strokes * spin_up


# --- Frying -------------------------------------------------------------------


def frying(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Sizzle: a 1.5-7.5 kHz hiss plus dense log-normal crackles (80-400 per s) in bursts, pops, oil bubbling."""
    hiss = dsp.bandpass(dsp.white(rng, n_samples), rng.uniform(1000, 2000), rng.uniform(5000, 7800))
    hiss *= 1 + 0.3 * dsp.smooth_random(rng, n_samples, rng.uniform(1, 5))
    rate_hz = rng.uniform(80, 400) * (1 + 0.7 * dsp.smooth_random(rng, n_samples, rng.uniform(0.5, 3)))
    sigma = rng.uniform(0.4, 0.9)
    impulses = (rng.random(n_samples) < rate_hz / SR) * np.minimum(rng.lognormal(0, sigma, n_samples), np.exp(2.5 * sigma))
    n_burst = int(rng.uniform(0.001, 0.003) * SR)  # each crackle is a 1-3 ms noise burst
    burst = rng.standard_normal(n_burst) * np.exp(-np.arange(n_burst) / (n_burst / 3))
    crackle = dsp.highpass(signal.fftconvolve(impulses, burst)[:n_samples], rng.uniform(1200, 3000))
    crackle = crackle + 0.7 * dsp.resonator(crackle, rng.uniform(2500, 7000), rng.uniform(500, 2000))
    pops = (rng.random(n_samples) < rng.uniform(1, 5) / SR) * rng.lognormal(1, 0.5, n_samples)
    pops = dsp.resonator(pops, rng.uniform(600, 2000), 400)
    bubbling = dsp.bandpass(dsp.white(rng, n_samples), rng.uniform(150, 400), rng.uniform(800, 2000))
    bubbling *= np.clip(1 + dsp.smooth_random(rng, n_samples, rng.uniform(10, 40)), 0, None)
    mix = hiss / np.std(hiss) * 10 ** (rng.uniform(-12, 0) / 20) + (crackle + pops * rng.uniform(0.5, 1.5) * np.max(np.abs(crackle)) / (np.max(np.abs(pops)) + 1e-12)) / (np.std(crackle) + 1e-12)
    return mix + bubbling / np.std(bubbling) * 10 ** (rng.uniform(-30, 0) / 20)


# --- Running_water ------------------------------------------------------------


def running_water(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Band-limited flow noise plus 100-400 bubbles per s (damped chirping sines at 0.5-4 kHz)."""
    flow = dsp.bandpass(dsp.white(rng, n_samples), rng.uniform(200, 800), rng.uniform(2500, 7800))
    flow *= 1 + rng.uniform(0.1, 0.5) * dsp.smooth_random(rng, n_samples, rng.uniform(2, 10))
    filling = rng.random() < 0.3  # a vessel filling up: bubble pitch rises over time
    rate_hz = rng.uniform(100, 400)
    n_bubbles = rng.poisson(rate_hz * n_samples / SR)
    starts = np.sort(rng.integers(0, n_samples, n_bubbles))
    centre_hz = rng.uniform(800, 2500)
    freqs_hz = np.clip(rng.lognormal(np.log(centre_hz), 0.5, n_bubbles), 300, 6000)
    if filling:
        freqs_hz *= 1 + starts / n_samples
    decays_s = rng.uniform(0.003, 0.015, n_bubbles)
    chirps = rng.uniform(0.1, 1.0, n_bubbles)
    amps = rng.lognormal(0, 0.6, n_bubbles)
    grains = []
    for freq, decay, chirp, amp in zip(freqs_hz, decays_s, chirps, amps):
        t = dsp.time_axis(int(4 * decay * SR))
        grains.append(amp * np.exp(-t / decay) * np.sin(2 * np.pi * freq * (t + chirp * t**2 / (2 * decay))))
    bubbles = dsp.scatter_add(np.zeros(n_samples), starts, grains)
    flow_level = 10 ** (rng.uniform(-12, 6) / 20)
    return flow / np.std(flow) * flow_level + bubbles / (np.std(bubbles) + 1e-12)


# --- Vacuum_cleaner -----------------------------------------------------------


def vacuum_cleaner(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Broadband airflow noise, motor harmonics (300-600 Hz) spinning up, a fan whine, blocked-nozzle dips."""
    t = dsp.time_axis(n_samples)
    motor_hz = rng.uniform(300, 600)
    spin = np.clip(t / rng.uniform(0.3, 1.5), 0, 1) if rng.random() < 0.5 else np.ones(n_samples)
    blocked = np.zeros(n_samples)
    for start in rng.integers(0, n_samples, rng.poisson(0.15 * n_samples / SR)):
        length = int(rng.uniform(0.3, 2.0) * SR)
        blocked[start : start + length] = 1.0
    blocked = dsp.lowpass(blocked, 4.0)
    speed = (0.4 + 0.6 * spin) * (1 + rng.uniform(0.05, 0.15) * blocked) * (1 + 0.01 * dsp.smooth_random(rng, n_samples, 3))
    motor = dsp.harmonics(motor_hz * speed, n_samples, np.arange(1, 13) ** -rng.uniform(0.7, 1.5), rng)
    whine = np.sin(dsp.phase(motor_hz * speed * rng.uniform(7, 12), n_samples))
    air = dsp.coloured_noise(rng, n_samples, rng.uniform(0.0, 1.2))
    centre_hz = rng.uniform(700, 3000)
    air = air + rng.uniform(0.5, 2.0) * dsp.bandpass(air, centre_hz / 1.5, centre_hz * 1.5)
    air *= (1 - rng.uniform(0.3, 0.6) * blocked) * (0.2 + 0.8 * spin)
    mix = air / np.std(air) + motor / np.std(motor) * 10 ** (rng.uniform(-15, -3) / 20)
    return mix + whine * 10 ** (rng.uniform(-25, -10) / 20) * spin


#: Procedural generators by DESED class (Speech is added by ``speech.py``).
PROCEDURAL: dict[str, Generator] = {
    "Alarm_bell_ringing": alarm_bell_ringing,
    "Blender": blender,
    "Cat": cat,
    "Dishes": dishes,
    "Dog": dog,
    "Electric_shaver_toothbrush": electric_shaver_toothbrush,
    "Frying": frying,
    "Running_water": running_water,
    "Vacuum_cleaner": vacuum_cleaner,
}
