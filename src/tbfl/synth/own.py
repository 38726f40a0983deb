"""The example dataset of docs/own-data.md: six non-DESED class names, strong labels only, no soundbank.

It is made offline from a synthetic DESED tree (:func:`tbfl.synth.generate_dataset`): six classes are
renamed (:data:`OWN_CLASSES`), the other four classes' events are dropped from the labels (their sounds
stay in the audio, as unlabelled interference, like the sounds any real annotation leaves out), and
only the strongly labelled sets are kept, in a layout of its own described by ``dataset.yaml``::

    audio/{train,val,test}/*.wav   metadata/{train,val,test}.tsv   metadata/test_durations.tsv   dataset.yaml
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tbfl.data.desed import read_durations_tsv, read_strong_tsv, write_durations_tsv, write_strong_tsv
from tbfl.data.desed import StrongLabels
from tbfl.data.layout import DesedLayout
from tbfl.io import atomic_write_text
from tbfl.synth.generate import generate_dataset

#: DESED class -> the example's class name; DESED's other four classes are left unlabelled.
OWN_CLASSES = {
    "Dog": "Bark",
    "Electric_shaver_toothbrush": "Buzz",
    "Dishes": "Cutlery",
    "Vacuum_cleaner": "Hoover",
    "Cat": "Meow",
    "Speech": "Talking",
}
#: The description file written at the dataset root.
DESCRIPTION_FILE = "dataset.yaml"
_SOURCE = "_desed_source"
#: (example set, its role, DESED layout entries of its audio and labels)
_SETS = (
    ("train", "strong", "synth_train_audio", "synth_train_tsv"),
    ("val", "validation", "synth_val_audio", "synth_val_tsv"),
    ("test", "evaluation", "validation_audio", "validation_tsv"),
)


def make_own_example(out: str | Path, preset: str = "tiny", seed: int = 0, *, progress: bool = True) -> Path:
    """Write the example dataset under ``out`` and return its description file (``out/dataset.yaml``).

    A finished dataset (its description exists) is left as it is; an interrupted one resumes.
    """
    out = Path(out)
    description = out / DESCRIPTION_FILE
    if description.is_file():
        return description
    source = DesedLayout(out / _SOURCE)
    generate_dataset(source.root, preset=preset, seed=seed, progress=progress)
    for name, _, audio, labels in _SETS:
        target = out / "audio" / name
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            source.audio_dir(audio).rename(target)
        strong = read_strong_tsv(source.path(labels))
        events = strong.events.loc[strong.events["event_label"].isin(list(OWN_CLASSES))]
        renamed = StrongLabels(events.assign(event_label=events["event_label"].map(OWN_CLASSES)), filenames=strong.filenames)
        write_strong_tsv(out / "metadata" / f"{name}.tsv", renamed)
    write_durations_tsv(out / "metadata" / "test_durations.tsv", read_durations_tsv(source.path("validation_durations_tsv")))
    shutil.rmtree(source.root)
    atomic_write_text(description, yaml.safe_dump(own_description(), sort_keys=False))
    return description


def own_description() -> dict:
    """The example's description: classes, and its three strongly labelled sets (no soundbank: V_c from labels)."""
    sets = {}
    for name, role, _, _ in _SETS:
        sets[name] = {"role": role, "audio": f"audio/{name}", "labels": f"metadata/{name}.tsv"}
    sets["test"]["durations"] = "metadata/test_durations.tsv"
    return {"classes": list(OWN_CLASSES.values()), "sets": sets}
