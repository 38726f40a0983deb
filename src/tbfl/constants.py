"""Constants shared by every layer: the DESED classes and the baseline's time grid.

The grid constants are the DCASE2021 baseline's, the defaults of APIs that need one (label
encoding, r_c, evaluation of score files). A training run takes its own grid from its recipe's
feature hop and time pooling (``RecipeConfig.frame_grid``), and its checkpoint keeps it.
"""

#: The ten DESED classes in the DESED (alphabetical) order used everywhere.
DESED_CLASSES: tuple[str, ...] = (
    "Alarm_bell_ringing",
    "Blender",
    "Cat",
    "Dishes",
    "Dog",
    "Electric_shaver_toothbrush",
    "Frying",
    "Running_water",
    "Speech",
    "Vacuum_cleaner",
)

#: Short names used in the paper's tables and figures (same order).
SHORT_NAMES: tuple[str, ...] = ("A", "B", "C", "Di", "Do", "E", "F", "R", "S", "V")

SAMPLE_RATE_HZ = 16_000
CLIP_DURATION_S = 10.0
#: STFT hop of the baseline features (samples) and the CRNN's time pooling.
FEATURE_HOP_SAMPLES = 256
NET_POOLING = 4
#: Output frame hop of the baseline CRNN: 256 * 4 / 16000 = 0.064 s.
FRAME_HOP_S = FEATURE_HOP_SAMPLES * NET_POOLING / SAMPLE_RATE_HZ
#: Output frames per 10 s clip (626 input frames pooled by 4).
N_FRAMES = 156
