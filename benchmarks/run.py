#!/usr/bin/env python3
"""Run kernelkit's benchmark harness (`kkbench`, beside this file); `kernelkit bench` in a checkout is the same.

python benchmarks/run.py --quick
python benchmarks/run.py --space cuda --json $OUT/gpu.json --plot $OUT --markdown $OUT/gpu.md
python benchmarks/run.py --list
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kkbench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
