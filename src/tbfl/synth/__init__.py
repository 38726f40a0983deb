"""Offline generator of DESED-like datasets (``tbfl synth``).

- ``generate_dataset(out, preset, seed, jobs, soundbank)``: soundbank + five sets + TSVs in the DESED layout;
- ``PRESETS`` / ``get_preset``: ``tiny``, ``small``, ``medium``, ``desed``;
- ``plot_class_examples(out_png)``: one spectrogram per class.

Modules: ``generators`` (nine procedural classes), ``speech`` (espeak-ng or a
procedural voice), ``backgrounds``, ``soundbank`` (files, index, credits),
``soundscapes`` (plan + mix + labels), ``generate`` (orchestration), ``figures``.
"""

from tbfl.synth.figures import plot_class_examples
from tbfl.synth.generate import SynthReport, generate_dataset
from tbfl.synth.presets import PRESETS, Preset, get_preset

__all__ = ["PRESETS", "Preset", "SynthReport", "generate_dataset", "get_preset", "plot_class_examples"]
