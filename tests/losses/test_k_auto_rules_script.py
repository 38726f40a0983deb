"""scripts/k_auto_rules.py, which prints docs/k-auto.md's comparison of the two k: auto rules."""

import json
import subprocess
import sys
from pathlib import Path

from tbfl.data.table1 import PAPER_TABLE1
from tbfl.weights import auto_k

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "k_auto_rules.py"


def test_the_script_prints_both_rules_k_spread_and_sensitivity(tmp_path):
    stats = tmp_path / "table1.json"
    stats.write_text(json.dumps({"classes": list(PAPER_TABLE1.classes), "volumes": list(PAPER_TABLE1.volumes),
                                 "frame_ratios": list(PAPER_TABLE1.frame_ratios)}))
    done = subprocess.run([sys.executable, str(SCRIPT), str(stats)], capture_output=True, text=True, check=True, timeout=120)
    row = done.stdout.splitlines()[2].strip("| ").split(" | ")
    assert row[0] == "table1" and row[1] == "1000" and row[4] == "1000"  # both rules give the paper's k on Table 1
    # of the 20 changes (each class's r_c halved or doubled), halving Running_water's moves the median's k most:
    # the middle pair of r_c / V_c changes, and k goes from 1000 to 1600
    halved = list(PAPER_TABLE1.frame_ratios)
    halved[PAPER_TABLE1.classes.index("Running_water")] /= 2
    assert auto_k(PAPER_TABLE1.volumes, halved) == 1600.0
    assert row[3] == "1.60x"
    assert row[6] == "1.10x"  # one class of ten moves the geometric mean by 2^(1/10), then the two-digit rounding
