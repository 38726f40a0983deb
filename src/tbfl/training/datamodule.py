"""Clips, targets and batches of the DCASE2021 recipe as a LightningDataModule.

A training batch is a dict of three sub-batches drawn by three ordinary
DataLoaders combined by Lightning (``CombinedLoader``): with ``epoch_mode``
"min_size" an epoch ends with the shortest set, as the baseline's sampler;
with "max_size_cycle" it is one pass over the largest set, the others cycle. Under DDP Lightning
gives each loader its own ``DistributedSampler``, so there is no custom batch
sampler to break multi-GPU runs (the original recipe's problem).

    batch["strong"]    = (features (Bs, M, F), strong targets (Bs, C, T), clip indices (Bs,))
    batch["weak"]      = (features (Bw, M, F), weak targets (Bw, C), clip indices (Bw,))
    batch["unlabeled"] = (features (Bu, M, F), clip indices (Bu,))

Features are the cached, unscaled log-mel (see ``tbfl.features``); the
LightningModule scales them per clip on the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import lightning as L
import numpy as np
from lightning.pytorch.utilities import CombinedLoader
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from tbfl.constants import DESED_CLASSES
from tbfl.data.present import clip_durations_s, keep_present, present_strong_labels
from tbfl.data.desed import StrongLabels, read_strong_tsv, read_unlabeled_tsv, read_weak_tsv
from tbfl.data.labels import FrameGrid, encode_strong_clips, encode_weak
from tbfl.data.layout import DesedLayout
from tbfl.features import FeatureCache, FeatureConfig


@dataclass
class ClipSet:
    """Clips of one set: audio paths and their targets.

    ``strong``: (N, C, T) frame targets or None; ``weak``: (N, C) clip tags or None.
    """

    name: str
    filenames: list[str]
    audio_paths: list[Path]
    strong: np.ndarray | None = None
    weak: np.ndarray | None = None
    labels: StrongLabels | None = None  # the event table behind ``strong``

    def __len__(self) -> int:
        return len(self.filenames)


class ClipDataset(Dataset):
    """Items ``(features, [strong targets], [weak targets], index)``: the targets the set has.

    Features come from the on-disk cache; the index maps outputs back to clip names
    (under DDP the validation clips of one rank are interleaved and padded).
    """

    def __init__(self, clips: ClipSet, cache: FeatureCache) -> None:
        self.clips, self.cache = clips, cache

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        features = torch.from_numpy(np.array(self.cache.get(self.clips.audio_paths[index]), dtype=np.float32))
        item = [features]
        if self.clips.strong is not None:
            item.append(torch.from_numpy(self.clips.strong[index]))
        if self.clips.weak is not None:
            item.append(torch.from_numpy(self.clips.weak[index]))
        item.append(torch.tensor(index))
        return tuple(item)


def strong_clip_set(name: str, tsv: Path, audio_dir: Path, classes: Sequence[str], grid: FrameGrid) -> ClipSet:
    """A strongly labelled set of the clips with audio: (N, C, grid.n_frames) frame targets on the model's frame grid."""
    labels = present_strong_labels(name, read_strong_tsv(tsv, classes), audio_dir)
    strong = encode_strong_clips(labels, classes, n_frames=grid.n_frames, frame_hop_s=grid.frame_hop_s)
    return ClipSet(name, list(labels.filenames), [audio_dir / f for f in labels.filenames], strong=strong, labels=labels)


def weak_split(weak: pd.DataFrame, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, validation) of the baseline's weak split, each in file order.

    The DCASE2021 baseline draws ``weak.sample(frac=1 - validation_fraction, random_state=seed)`` for
    training and validates on the rest; this is that draw (pandas' RandomState algorithm), so
    on the same weak.tsv the same clips are held out.
    """
    train = np.sort(weak.reset_index(drop=True).sample(frac=1.0 - validation_fraction, random_state=seed).index.to_numpy())
    return train, np.setdiff1d(np.arange(len(weak)), train)


def weak_clip_sets(tsv: Path, audio_dir: Path, classes: Sequence[str], validation_fraction: float, seed: int) -> tuple[ClipSet, ClipSet]:
    """The weak set split as the baseline splits it (:func:`weak_split`, on every listed clip), then the clips with audio."""
    weak = read_weak_tsv(tsv, classes)
    parts = []
    for name, indices in zip(("weak_train", "weak_validation"), weak_split(weak, validation_fraction, seed)):
        rows = weak.iloc[indices]
        rows = rows.loc[rows["filename"].isin(set(keep_present(name, rows["filename"].tolist(), audio_dir)))]
        targets = np.stack([encode_weak(tags, classes) for tags in rows["event_labels"]]) if len(rows) else np.zeros((0, len(classes)), np.float32)
        names = list(rows["filename"])
        parts.append(ClipSet(name, names, [audio_dir / f for f in names], weak=targets.astype(np.float32)))
    return parts[0], parts[1]


class EpochPermutations(Sampler[int]):
    """The order of one training set's ``n_items`` clips: a fresh permutation for every (epoch, pass) that depends
    on (seed, stream, epoch, pass) only, so a resumed run draws exactly the batches an uninterrupted one draws.

    Lightning calls ``set_epoch`` at each epoch's start (it finds this sampler as ``batch_sampler.sampler``).
    """

    def __init__(self, n_items: int, seed: int, stream: int, epoch: int = 0) -> None:
        self.n_items, self.seed, self.stream, self.epoch = n_items, seed, stream, epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def order(self, pass_index: int) -> list[int]:
        """Clip positions (n_items,) of pass ``pass_index`` of the current epoch."""
        entropy = np.random.SeedSequence([self.seed, self.stream, self.epoch, pass_index]).generate_state(2, dtype=np.uint64)
        generator = torch.Generator().manual_seed(int(entropy[0] >> np.uint64(1)))
        return torch.randperm(self.n_items, generator=generator).tolist()

    def __iter__(self):
        return iter(self.order(0))

    def __len__(self) -> int:
        return self.n_items


class EpochBatches(Sampler[list[int]]):
    """One epoch's ``n_batches`` batches of one training set, the set cycled in fresh permutations when it holds fewer.

    A pass gives ``n_items // batch_size`` full batches (the rest is dropped, as ``drop_last``), or one batch of
    every clip when the set is smaller than a batch. Batch b of an epoch is batch ``b % batches_per_pass`` of pass
    ``b // batches_per_pass``. ``first_batch`` (set for a resume mid-epoch) skips the epoch's first batches once.
    """

    def __init__(self, sampler: EpochPermutations, batch_size: int, n_batches: int, first_batch: int = 0) -> None:
        self.sampler, self.batch_size, self.n_batches, self.first_batch = sampler, batch_size, n_batches, first_batch

    @property
    def batches_per_pass(self) -> int:
        return max(1, self.sampler.n_items // self.batch_size)

    def __iter__(self):
        first, self.first_batch = self.first_batch, 0
        order, order_pass = [], -1
        for batch in range(first, self.n_batches):
            pass_index, position = divmod(batch, self.batches_per_pass)
            if pass_index != order_pass:
                order, order_pass = self.sampler.order(pass_index), pass_index
            yield order[position * self.batch_size : (position + 1) * self.batch_size]

    def __len__(self) -> int:
        return self.n_batches


class DesedDataModule(L.LightningDataModule):
    """Strong + weak + unlabeled training batches; synthetic-validation and weak-validation sets.

    Args:
        layout: where the DESED sets live.
        frame_grid: the model's output frame grid (``RecipeConfig.frame_grid``), on which strong targets are encoded.
        batch_sizes: per-device sub-batch sizes (strong, weak, unlabeled), 12/12/24 in the baseline.
        feature_config: log-mel settings (keys of the on-disk cache).
        cache_dir: feature cache folder.
    """

    def __init__(
        self,
        layout: DesedLayout,
        *,
        frame_grid: FrameGrid,
        batch_sizes: tuple[int, int, int] = (12, 12, 24),
        feature_config: FeatureConfig | None = None,
        cache_dir: str | Path = ".cache/features",
        weak_validation_fraction: float = 0.1,
        seed: int = 42,
        num_workers: int = 0,
        classes: Sequence[str] = DESED_CLASSES,
        progress: bool = True,
        epoch_mode: str = "min_size",
    ) -> None:
        super().__init__()
        self.progress, self.epoch_mode = progress, epoch_mode
        self.layout, self.batch_sizes, self.classes = layout, tuple(batch_sizes), tuple(classes)
        self.frame_grid = frame_grid
        self.cache = FeatureCache(cache_dir, feature_config or FeatureConfig())
        self.weak_validation_fraction, self.seed, self.num_workers = weak_validation_fraction, seed, num_workers
        self.sets: dict[str, ClipSet] = {}
        self._resume_at = (0, 0)  # (epoch, batches done in it) of the checkpoint a run resumes from

    def load_sets(self) -> dict[str, ClipSet]:
        """Read every label file once (cheap) and return the clip sets by name."""
        if not self.sets:
            layout = self.layout
            weak_train, weak_validation = weak_clip_sets(
                layout.require("weak_tsv"), layout.audio_dir("weak_audio"), self.classes, self.weak_validation_fraction, self.seed
            )
            unlabeled_dir = layout.audio_dir("unlabeled_audio")
            unlabeled = keep_present("unlabeled_train", read_unlabeled_tsv(layout.require("unlabeled_tsv")), unlabeled_dir)
            self.sets = {
                "strong_train": strong_clip_set(
                    "strong_train", layout.require("synth_train_tsv"), layout.audio_dir("synth_train_audio"), self.classes, self.frame_grid
                ),
                "weak_train": weak_train,
                "unlabeled_train": ClipSet("unlabeled_train", unlabeled, [unlabeled_dir / f for f in unlabeled]),
                "synth_validation": strong_clip_set(
                    "synth_validation", layout.require("synth_val_tsv"), layout.audio_dir("synth_val_audio"), self.classes, self.frame_grid
                ),
                "weak_validation": weak_validation,
            }
            empty = [name for name in ("strong_train", "weak_train", "unlabeled_train", "synth_validation") if not self.sets[name]]
            if empty:
                raise ValueError(f"{layout.root}: no clip with audio in {', '.join(empty)}; `tbfl check {layout.root}` shows what is there")
        return self.sets

    def prepare_data(self) -> None:
        """Fill the feature cache for every clip (rank 0 only; later runs hit the cache)."""
        for clips in self.load_sets().values():
            self.cache.fill(clips.audio_paths, description=f"features {clips.name}", progress=self.progress)

    def setup(self, stage: str | None = None) -> None:
        self.load_sets()

    def _loader(self, name: str, batch_size: int, shuffle: bool) -> DataLoader:
        clips = self.sets[name]
        return DataLoader(
            ClipDataset(clips, self.cache),
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=shuffle and len(clips) >= batch_size,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self):
        """The three training loaders. On one device each draws :class:`EpochBatches` (exact resume, also
        mid-epoch); under DDP Lightning's ``DistributedSampler`` shuffles per epoch (a resume mid-epoch restarts
        that epoch's order)."""
        names = {"strong": "strong_train", "weak": "weak_train", "unlabeled": "unlabeled_train"}
        if self.trainer is not None and self.trainer.world_size > 1:
            loaders = {key: self._loader(name, size, shuffle=True) for (key, name), size in zip(names.items(), self.batch_sizes)}
            return CombinedLoader(loaders, mode=self.epoch_mode)
        per_pass = [max(1, len(self.sets[name]) // size) for name, size in zip(names.values(), self.batch_sizes)]
        n_batches = max(per_pass) if self.epoch_mode == "max_size_cycle" else min(per_pass)
        epoch, first_batch = self._resume_at
        loaders = {}
        for stream, ((key, name), size) in enumerate(zip(names.items(), self.batch_sizes)):
            batches = EpochBatches(EpochPermutations(len(self.sets[name]), self.seed, stream, epoch), size, n_batches, first_batch)
            loaders[key] = DataLoader(
                ClipDataset(self.sets[name], self.cache), batch_sampler=batches, num_workers=self.num_workers,
                persistent_workers=self.num_workers > 0,
            )
        return CombinedLoader(loaders, mode="min_size")  # every loader gives the epoch's n_batches

    def state_dict(self) -> dict:
        """Where training stands in the epoch (stored in every checkpoint): the epoch and the batches done in it."""
        trainer = self.trainer
        if trainer is None:
            return {}
        done = trainer.fit_loop.epoch_loop.batch_progress.current.processed
        return {"epoch": trainer.current_epoch, "batches_done": done, "epoch_batches": trainer.num_training_batches}

    def load_state_dict(self, state_dict: dict) -> None:
        if state_dict:
            epoch, done = state_dict["epoch"], state_dict["batches_done"]
            self._resume_at = (epoch + 1, 0) if done >= state_dict["epoch_batches"] else (epoch, done)

    def val_dataloader(self) -> list[DataLoader]:
        batch = sum(self.batch_sizes)
        return [self._loader("synth_validation", batch, shuffle=False), self._loader("weak_validation", batch, shuffle=False)]

    def validation_ground_truth(self) -> tuple:
        """(synthetic-validation StrongLabels, its durations) of the clips with audio, for the validation metrics."""
        clips = self.load_sets()["synth_validation"]  # labels read once, with the other label files
        durations = clip_durations_s(self.layout.path("synth_val_durations_tsv"), clips.filenames, self.layout.audio_dir("synth_val_audio"))
        return clips.labels, durations
