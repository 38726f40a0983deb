"""Frame predictions of a trained network on clips, from cached features."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from tbfl.features import FeatureCache, minmax_scale
from tbfl.model import CRNN


@torch.no_grad()
def predict_features(network: CRNN, features: np.ndarray | torch.Tensor, *, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Frame probabilities and logits, each (N, C, T), for unscaled log-mel features (N, M, F)."""
    network.eval()
    device = next(network.parameters()).device
    features = torch.as_tensor(features, dtype=torch.float32)
    probabilities, logits = [], []
    for start in range(0, len(features), batch_size):
        output = network(minmax_scale(features[start : start + batch_size].to(device)))
        probabilities.append(output.strong_probs.float().cpu())
        logits.append(output.strong_logits.float().cpu())
    if not probabilities:
        n_classes = network.config.n_classes
        return np.zeros((0, n_classes, 0), np.float32), np.zeros((0, n_classes, 0), np.float32)
    return torch.cat(probabilities).numpy(), torch.cat(logits).numpy()


def predict_frames(
    network: CRNN, cache: FeatureCache, audio_paths: Sequence[str | Path], *, batch_size: int = 32, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Frame probabilities and logits, each (N, C, T), of the clips at ``audio_paths``."""
    probabilities, logits = [], []
    starts = range(0, len(audio_paths), batch_size)
    for start in tqdm(starts, desc="scoring", disable=not progress):
        chunk = np.stack([cache.get(path) for path in audio_paths[start : start + batch_size]])
        chunk_probabilities, chunk_logits = predict_features(network, chunk, batch_size=batch_size)
        probabilities.append(chunk_probabilities)
        logits.append(chunk_logits)
    if not probabilities:
        return predict_features(network, np.zeros((0, 1, 1), np.float32))
    return np.concatenate(probabilities), np.concatenate(logits)
