"""Post-processing of frame scores, one place: median filters, SEBBs, the parameter file, its application, its tuning.

- :mod:`.frames`: median filters, thresholds, event tables;
- :mod:`.sebb`: sound event bounding boxes;
- :mod:`.params`: the parameter file (``params.json``) and its application (:func:`~.params.tuned_scores`);
- :mod:`.tuning`: the search for per-class parameters on a tuning set (it evaluates candidates, so it sits on
  top of :mod:`tbfl.evaluation.evaluate` and is not imported here).
"""

from tbfl.evaluation.postprocessing.frames import binarize, decode_events, median_filter, median_filter_clips, median_filter_frames
from tbfl.evaluation.postprocessing.params import PostprocessParams, tuned_scores
from tbfl.evaluation.postprocessing.sebb import SebbParams, sebb_scores

__all__ = [
    "PostprocessParams", "SebbParams", "binarize", "decode_events", "median_filter", "median_filter_clips",
    "median_filter_frames", "sebb_scores", "tuned_scores",
]
