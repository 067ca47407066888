"""The fuzzer's budget: Hypothesis profiles. `ci` (the default, what .ci/run runs): derandomized, a fixed number
of kernels, a few minutes on 2 cores. `long` (KERNELKIT_FUZZ=long): random seeds and many more kernels, for local
runs; KERNELKIT_FUZZ_EXAMPLES overrides the number. KERNELKIT_FUZZ_STATS=path writes what was tried (kernels,
launches, inputs) as JSON when the session ends."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, Phase, settings

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.large_base_example]
settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("KERNELKIT_FUZZ_EXAMPLES", 80)),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=_SLOW,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking in CI: a failure is reported as found, at once
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("KERNELKIT_FUZZ_EXAMPLES", 2000)),
    deadline=None,
    suppress_health_check=_SLOW,
    print_blob=True,
)
settings.load_profile(os.environ.get("KERNELKIT_FUZZ", "ci"))


def pytest_sessionfinish(session, exitstatus):
    from fuzz_harness import STATS

    path = os.environ.get("KERNELKIT_FUZZ_STATS")
    if path and STATS["kernels"]:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(STATS, f, indent=1)
