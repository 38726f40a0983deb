"""Offline generator of DESED-like datasets (``tbfl synth``).

- ``generate_dataset(out, preset, seed, jobs, soundbank)``: soundbank + five sets + TSVs in the DESED layout;
- ``PRESETS`` / ``get_preset``: ``tiny``, ``small``, ``medium``, ``desed``;
- ``plot_class_examples(out_png)``: one spectrogram per class.

Modules: ``generators`` (nine procedural classes), ``speech`` (espeak-ng or a
procedural voice), ``backgrounds``, ``soundbank`` (files, index, credits),
``soundscapes`` (plan + mix + labels), ``generate`` (orchestration), ``figures``.
"""

import importlib

# Imported on first use, so ``tbfl synth --help`` reads the preset names without loading the generators.
_EXPORTS = {
    "plot_class_examples": "tbfl.synth.figures",
    "SynthReport": "tbfl.synth.generate",
    "generate_dataset": "tbfl.synth.generate",
    "PRESETS": "tbfl.synth.presets",
    "Preset": "tbfl.synth.presets",
    "World": "tbfl.synth.presets",
    "get_preset": "tbfl.synth.presets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tbfl.synth' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
