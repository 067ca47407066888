"""Hierarchical parallelism, as the api names it: `pk.TeamPolicy` (a launch policy, api/policies.py) and the
in-kernel team constructs (kernelkit.lang.team), under the module name the backends and older code import."""

from kernelkit.api.policies import TeamPolicy
from kernelkit.lang.team import (
    AUTO,
    PerTeam,
    PerThread,
    ScratchView1D,
    ScratchView2D,
    ScratchView3D,
    ScratchViewType,
    TeamMember,
    TeamThreadMDRange,
    TeamThreadRange,
    TeamVectorMDRange,
    TeamVectorRange,
    ThreadVectorRange,
    single,
)

__all__ = [
    "AUTO",
    "PerTeam",
    "PerThread",
    "ScratchView1D",
    "ScratchView2D",
    "ScratchView3D",
    "ScratchViewType",
    "TeamMember",
    "TeamPolicy",
    "TeamThreadMDRange",
    "TeamThreadRange",
    "TeamVectorMDRange",
    "TeamVectorRange",
    "ThreadVectorRange",
    "single",
]
