#!/usr/bin/env python3
"""Run the benchmark harness: the same as `kernelkit bench`, with the same flags.

python benchmarks/run.py --quick
python benchmarks/run.py --json benchmarks/results/cpu-$(hostname).json
"""

import sys

from kernelkit.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
