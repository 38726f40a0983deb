"""Shared cases for the evaluation tests: small, seeded, real reference libraries as oracles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tbfl.evaluation.simulate import simulate_case



def pytest_configure(config):
    # dcase_util (imported by sed_eval and sed_scores_eval) imports pkg_resources, which warns.
    config.addinivalue_line("filterwarnings", "ignore:pkg_resources is deprecated:UserWarning")

HOP_S = 0.064


@pytest.fixture(scope="session")
def random_cases():
    """Three seeded 16-clip DESED-like cases: all 10 classes present, 1-2 clips without events each."""
    return [simulate_case(16, seed=seed, events_per_clip=3.0) for seed in (10, 12, 19)]


def events_frame(rows) -> pd.DataFrame:
    """Events table from (filename, onset, offset, label) tuples."""
    return pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])


def plateau_scores(n_classes: int, n_frames: int, bumps) -> np.ndarray:
    """(C, n_frames) scores of 0.05 with ``bumps`` = [(class, first_frame, stop_frame, score)] on top."""
    scores = np.full((n_classes, n_frames), 0.05)
    for label, first, stop, score in bumps:
        scores[label, first:stop] = score
    return scores


@pytest.fixture(scope="session")
def helpers():
    """Helper functions (test modules cannot import each other under importlib mode)."""
    return type("Helpers", (), {"events_frame": staticmethod(events_frame), "plateau_scores": staticmethod(plateau_scores)})
