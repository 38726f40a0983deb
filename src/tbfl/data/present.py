"""Which listed clips have audio: the one filter every consumer of a clip set applies.

Nobody has the whole of DESED (its real clips come from YouTube), so training and ``stats`` keep
the clips whose audio file exists (:func:`keep_present`, one warning with the counts); ``tbfl check``
(:mod:`tbfl.data.audit`) lists the missing ones.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

from tbfl.data.audio import audio_duration_s, audio_files
from tbfl.data.desed import StrongLabels, read_durations_tsv

#: Clip names shown in a warning or a table cell.
SHOWN = 3


def keep_present(set_name: str, filenames: Sequence[str], audio_dir: str | Path) -> list[str]:
    """The ``filenames`` (in order) whose audio exists in ``audio_dir``; one warning with the counts if any is missing.

    The warning reads e.g. ``"validation: 926 of 1,168 clips present in <dir>; 242 missing (Y1.wav, ...); `tbfl check` lists them"``.
    """
    on_disk = {path.name for path in audio_files(audio_dir)}
    present = [name for name in filenames if name in on_disk]
    missing = len(filenames) - len(present)
    if missing:
        shown = [name for name in filenames if name not in on_disk][:SHOWN]
        warnings.warn(
            f"{set_name}: {len(present):,} of {len(filenames):,} clips present in {audio_dir}; {missing:,} missing "
            f"({', '.join(shown)}{', ...' if missing > SHOWN else ''}); `tbfl check` lists them",
            UserWarning,
            stacklevel=2,
        )
    return present


def present_strong_labels(set_name: str, labels: StrongLabels, audio_dir: str | Path) -> StrongLabels:
    """``labels`` restricted to the clips whose audio exists (see :func:`keep_present`)."""
    present = keep_present(set_name, list(labels.filenames), audio_dir)
    if len(present) == len(labels.filenames):
        return labels
    events = labels.events
    return StrongLabels(events.loc[events["filename"].isin(set(present))], filenames=tuple(present))


def clip_durations_s(durations_tsv: Path, filenames: Sequence[str], audio_dir: Path) -> dict[str, float]:
    """Duration (s) of each of ``filenames``: from ``durations_tsv``, or measured from the audio headers when it is absent.

    The DCASE2021 baseline likewise writes the validation durations from the audio when the file is missing.
    Raises ValueError naming the file when it lacks a clip.
    """
    if durations_tsv.is_file():
        durations = read_durations_tsv(durations_tsv)
        lacking = [name for name in filenames if name not in durations]
        if lacking:
            raise ValueError(f"{durations_tsv}: no duration for {len(lacking)} clip(s) with audio ({', '.join(lacking[:SHOWN])})")
        return {name: durations[name] for name in filenames}
    return {name: audio_duration_s(audio_dir / name) for name in filenames}
