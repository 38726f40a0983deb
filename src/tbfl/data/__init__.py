"""Data: the dataset description, the DESED folder layout, validated label files, label encoding, audio loading, Table 1 statistics."""

from tbfl.data.audio import AudioError, audio_duration_s, load_audio
from tbfl.data.dataset import DatasetDescription, DatasetError, DatasetSet, desed2021, load_dataset
from tbfl.data.desed import (
    StrongLabels,
    TsvFormatError,
    read_durations_tsv,
    read_strong_tsv,
    read_unlabeled_tsv,
    read_weak_tsv,
    write_durations_tsv,
    write_strong_tsv,
    write_unlabeled_tsv,
    write_weak_tsv,
)
from tbfl.data.labels import FrameGrid, decode_strong, decode_weak, encode_strong, encode_strong_clips, encode_weak, time_to_frame
from tbfl.data.layout import DesedLayout
from tbfl.data.stats import DatasetStats, frame_ratios, measure_stats, soundbank_volumes

__all__ = [
    "AudioError",
    "DatasetDescription",
    "DatasetError",
    "DatasetSet",
    "DatasetStats",
    "DesedLayout",
    "FrameGrid",
    "StrongLabels",
    "TsvFormatError",
    "audio_duration_s",
    "decode_strong",
    "desed2021",
    "decode_weak",
    "encode_strong",
    "encode_strong_clips",
    "encode_weak",
    "frame_ratios",
    "load_audio",
    "load_dataset",
    "measure_stats",
    "read_durations_tsv",
    "read_strong_tsv",
    "read_unlabeled_tsv",
    "read_weak_tsv",
    "soundbank_volumes",
    "time_to_frame",
    "write_durations_tsv",
    "write_strong_tsv",
    "write_unlabeled_tsv",
    "write_weak_tsv",
]
