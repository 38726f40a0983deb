"""Ctrl-C while synth writes a WAV: a KeyboardInterrupt (the CLI's clean "interrupted"), never soundfile's
AssertionError, and never a half file (issue 26, defect 7: 1 of 4 tries ended in an AssertionError)."""

import os
import signal
import threading
import time

import numpy as np
import soundfile as sf

from tbfl.synth.soundbank import write_wav


def test_sigint_during_encoding_is_a_keyboard_interrupt(tmp_path):
    """SIGINTs at 0-27 ms into 27 ms encodings: without the fix about 1 in 13 became an AssertionError."""
    audio = (0.1 * np.random.default_rng(0).standard_normal(16_000 * 60)).astype(np.float32)
    path = tmp_path / "clip.wav"
    write_wav(path, audio)
    outcomes = []
    for i in range(30):
        timer = threading.Timer((i % 10) * 0.003, os.kill, (os.getpid(), signal.SIGINT))
        try:
            timer.start()
            write_wav(path, audio)
            time.sleep(0.2)  # the signal lands here at the latest
            outcomes.append("finished")
        except KeyboardInterrupt:
            outcomes.append("interrupted")
        timer.join()
        assert sf.info(path).frames == len(audio)  # the earlier or the new file, whole
    assert outcomes == ["interrupted"] * 30
