/* What every target's teams share: the nested-range levels and pk.single's PerTeam/PerThread (as the C++
 * renderer spells them, kk::LEVEL_* and kk::PER_*), and ScratchViews over a team's bump allocator.
 * Included by team_host.h (teams on OpenMP threads) and cuda.h (teams as blocks), which define the Team type. */
#ifndef KERNELKIT_TEAM_H
#define KERNELKIT_TEAM_H

#include "core.h"

namespace kk {

enum { LEVEL_THREAD = 0, LEVEL_VECTOR = 1, LEVEL_TEAMVECTOR = 2 };
enum { PER_TEAM = 0, PER_THREAD = 1 };

/* A rank-R ScratchView (LayoutRight) of extents `ext` in the team's level-`level` scratch, shared by the team or
 * private to the thread. `team.scratch_alloc` never returns null: when the memory runs out it traps (CUDA) or
 * unwinds the team with a message (host), so no View is made over memory that is not there. */
template <class T, int R, class Tm, class... E>
KK_FUNCTION View<T, R, 'C'> scratch_view(Tm& team, int64_t level, bool per_thread, E... ext) {
    kk_array_t a;
    const int64_t e[R] = {(int64_t)ext...};
    int64_t n = 1, s = 1;
    for (int k = R - 1; k >= 0; --k) {
        a.ext[k] = e[k];
        a.str[k] = s;
        s *= e[k];
        n *= e[k] > 0 ? e[k] : 0;
    }
    a.data = team.scratch_alloc(level, per_thread, n * (int64_t)sizeof(T));
    return View<T, R, 'C'>(a, "scratch");
}

}  // namespace kk

#endif
