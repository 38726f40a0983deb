"""Soundscape planning and mixing, and generation from an existing (DESED-style) soundbank."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tbfl.cli import main
from tbfl.constants import DESED_CLASSES
from tbfl.data.desed import StrongLabels, read_strong_tsv
from tbfl.data.layout import DesedLayout
from tbfl.data.stats import frame_ratios
from tbfl.synth import dsp
from tbfl.synth.generate import plan_set
from tbfl.synth.soundbank import CREDITS_TSV, HELDOUT_FOREGROUND, SourceFile, write_wav
from tbfl.synth.soundscapes import ClipPlan, EventPlan, MixSettings, render_clip
from tbfl.data.table1 import PAPER_AVG_SOURCE_LENGTH_S, PAPER_TABLE1

SR = 16000


def table1_bank(seed=0):
    """Source descriptions shaped like Table 1 (lengths only: planning reads no audio)."""
    rng = np.random.default_rng(seed)
    foreground = tuple(
        SourceFile(label, f"/bank/{label}/{i}.wav", int(rng.lognormal(np.log(mean_s), 0.5) * SR))
        for label, n, mean_s in zip(DESED_CLASSES, PAPER_TABLE1.volumes, PAPER_AVG_SOURCE_LENGTH_S)
        for i in range(int(n))
    )
    background = tuple(SourceFile(kind, f"/bank/bg/{kind}{i}.wav", 15 * SR) for kind in ("a", "b") for i in range(3))
    return foreground, background


def test_plans_follow_the_rules():
    foreground, background = table1_bank()
    lengths = {s.path: s.n_samples for s in foreground}
    plans = plan_set("x", 400, 3, foreground, background)
    assert [p.filename for p in plans[:2]] == ["x_00000.wav", "x_00001.wav"]
    counts = [len(p.events) for p in plans]
    assert min(counts) == 1 and max(counts) == 5
    for plan in plans:
        for e in plan.events:
            assert 0 <= e.onset_ms < e.offset_ms <= 10_000
            assert e.source_start + e.n_ms * 16 <= lengths[e.source]
            assert 6 <= e.snr_db <= 30
            if lengths[e.source] > 160_000:  # long sources are cropped to 70-100% of the clip
                assert 7_000 <= e.n_ms <= 10_000
            else:
                assert e.n_ms == lengths[e.source] // 16 and e.source_start == 0
            same = [o for o in plan.events if o.label == e.label and o is not e]
            assert all(o.offset_ms <= e.onset_ms or e.offset_ms <= o.onset_ms for o in same)
        assert plan.strong_rows() == sorted(plan.strong_rows(), key=lambda r: (r[1], r[3]))
    assert plan_set("x", 5, 3, foreground, background) == plans[:5]
    assert plan_set("x", 5, 4, foreground, background) != plans[:5]


def test_frame_ratios_resemble_table1():
    foreground, background = table1_bank()
    plans = plan_set("x", 1500, 0, foreground, background)
    rows = [row for plan in plans for row in plan.strong_rows()]
    labels = StrongLabels(pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"]), tuple(p.filename for p in plans))
    measured = frame_ratios(labels)
    np.testing.assert_allclose(measured, PAPER_TABLE1.frame_ratios, atol=0.02)
    assert DESED_CLASSES[int(np.argmax(measured))] == "Speech"
    short, long = [DESED_CLASSES.index(c) for c in ("Dishes", "Dog", "Cat", "Alarm_bell_ringing")], [DESED_CLASSES.index(c) for c in ("Vacuum_cleaner", "Frying", "Electric_shaver_toothbrush")]
    assert measured[short].max() < measured[long].min()


def write(path, audio, rate=SR):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate, subtype="PCM_16")
    return str(path)


def test_mix_sets_the_snr_against_the_background_and_limits_the_peak(tmp_path):
    rng = np.random.default_rng(0)
    background = write(tmp_path / "bg.wav", 0.1 * rng.standard_normal(12 * SR))
    tone = np.sin(2 * np.pi * 440 * np.arange(2 * SR) / SR) * np.r_[np.ones(SR), np.zeros(SR)]  # half silent
    source = write(tmp_path / "tone.wav", 0.5 * tone)
    for snr_db in (6.0, 20.0):
        event = EventPlan("Alarm_bell_ringing", source, 0, 3000, 2000, snr_db)
        plan = ClipPlan("c.wav", background, 1000, -40.0, (event,))
        raw = render_clip(plan, MixSettings(peak=np.inf))
        alone = render_clip(ClipPlan("c.wav", background, 1000, -40.0, ()), MixSettings(peak=np.inf))
        assert 20 * np.log10(np.sqrt(np.mean(alone**2))) == pytest.approx(-40, abs=0.01)
        added = (raw - alone)[3 * SR : 5 * SR]
        # The SNR uses the event's active (non-silent) part.
        assert 20 * np.log10(dsp.active_rms(added) / np.sqrt(np.mean(alone**2))) == pytest.approx(snr_db, abs=0.05)
    loud = ClipPlan("c.wav", background, 0, -5.0, (EventPlan("Dog", source, 0, 0, 2000, 30.0),))
    mixed = render_clip(loud)
    assert np.max(np.abs(mixed)) == pytest.approx(0.99)


def test_short_background_loops_and_other_rates_are_resampled(tmp_path):
    rng = np.random.default_rng(1)
    background = write(tmp_path / "bg.wav", 0.1 * rng.standard_normal(3 * SR))
    stereo_44k = np.stack([np.sin(2 * np.pi * 1000 * np.arange(44100) / 44100)] * 2, axis=1) * 0.5
    source = write(tmp_path / "src.wav", stereo_44k, rate=44100)
    plan = ClipPlan("c.wav", background, 0, -30.0, (EventPlan("Speech", source, 0, 5000, 1000, 20.0),))
    mixed = render_clip(plan, MixSettings(peak=np.inf))
    assert mixed.shape == (160_000,)
    assert np.allclose(mixed[: 3 * SR], mixed[6 * SR : 9 * SR])  # looped, not padded with silence
    spectrum = np.abs(np.fft.rfft(mixed[5 * SR : 6 * SR]))
    assert np.argmax(spectrum) == 1000  # 1 kHz stays 1 kHz at 16 kHz (1 Hz bins)


def make_desed_style_bank(root):
    rng = np.random.default_rng(2)
    for label, n in (("Dog", 4), ("Dog_nOn", 2), ("Speech", 5), ("Frying", 3)):
        for i in range(n):
            audio = dsp.normalise(rng.standard_normal(int(rng.uniform(0.5, 12) * SR)))
            write(root / "foreground" / label / f"{label.lower()}_{i}.wav", audio)
    for kind in ("sins", "tut"):
        for i in range(2):
            write(root / "background" / kind / "sub" / f"{kind}_{i}.wav", 0.05 * rng.standard_normal(11 * SR))


def test_generation_from_an_existing_soundbank(tmp_path):
    bank, out = tmp_path / "bank", tmp_path / "out"
    make_desed_style_bank(bank)
    assert main(["synth", "--out", str(out), "--preset", "tiny", "--soundbank", str(bank), "--no-progress"]) == 0
    layout = DesedLayout(out)
    train = {p.name for p in layout.path("soundbank_foreground").rglob("*.wav")}
    heldout = {p.name for p in (out / HELDOUT_FOREGROUND).rglob("*.wav")}
    assert len(train) + len(heldout) == 14 and not train & heldout
    assert sorted(p.name for p in layout.path("soundbank_foreground").iterdir()) == ["Dog", "Frying", "Speech"]  # _nOn merged
    assert len(list((out / HELDOUT_FOREGROUND / "Dog").iterdir())) == round(6 * 0.2)
    events = read_strong_tsv(layout.path("synth_train_tsv")).events
    assert set(events["event_label"]) <= {"Dog", "Speech", "Frying"} and len(events) >= 16
    credits = (out / CREDITS_TSV).read_text().splitlines()[1:]
    assert len(credits) == 18 and all(line.endswith("unknown: see the licence of the soundbank it came from") for line in credits)


def test_existing_soundbank_errors_name_the_culprit(tmp_path, capsys):
    bank = tmp_path / "bank"
    make_desed_style_bank(bank)
    write(bank / "foreground" / "Toaster" / "t.wav", np.zeros(SR))
    assert main(["synth", "--out", str(tmp_path / "out"), "--preset", "tiny", "--soundbank", str(bank), "--no-progress"]) == 2
    assert "Toaster: foreground folder is not a DESED class" in capsys.readouterr().err
    (bank / "foreground" / "Toaster" / "t.wav").unlink()
    (bank / "foreground" / "Toaster").rmdir()
    (bank / "foreground" / "Dog" / "broken.wav").write_bytes(b"not audio")
    assert main(["synth", "--out", str(tmp_path / "out2"), "--preset", "tiny", "--soundbank", str(bank), "--no-progress"]) == 2
    assert "broken.wav: not a readable audio file" in capsys.readouterr().err


def test_cli_needs_an_output(capsys):
    assert main(["synth"]) == 2
    assert "--out" in capsys.readouterr().err


def test_write_wav_is_pcm16_with_credits(tmp_path):
    path = tmp_path / "a.wav"
    write_wav(path, np.full(160, 0.5), comment="made here", licence="CC0-1.0")
    with sf.SoundFile(path) as f:
        assert (f.samplerate, f.subtype, f.comment, f.copyright) == (SR, "PCM_16", "made here", "CC0-1.0")
        assert f.read()[0] == pytest.approx(0.5, abs=1 / 32768)
