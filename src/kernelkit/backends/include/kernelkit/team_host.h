/* Teams on the host: TeamPolicy leagues over OpenMP threads, grouped into teams of team_size threads that
 * share a barrier, scratch memory and reduction slots (as Kokkos' OpenMP backend does). Vector lanes are the
 * iterations of `omp simd` loops. The launch carries the policy as lo = (league, team_size, vector_length) and
 * hi = (team scratch level 0, level 1, thread scratch level 0, level 1). */
#ifndef KERNELKIT_TEAM_HOST_H
#define KERNELKIT_TEAM_HOST_H

#include <stdlib.h>
#include <sched.h>
#include <setjmp.h>
#include "host.h"
#include "team.h"

namespace kk {

namespace host {

/* A sense-reversing barrier for the threads of one team. */
struct TeamBarrier {
    int count;
    int sense;
};

struct TeamShared {
    TeamBarrier bar;
    int64_t stop_at; /* the league rank after which the team stops (Ctrl-C); decided by its rank-0 thread */
    int pad_[12];
    unsigned char slots[64 * 16]; /* one 16-byte reduction slot per team thread (team_size <= 64) */
};

struct Team {
    int64_t lrank, lsize;
    int trank, tsize, vlen;
    char* scratch[2];           /* this team's level-0/1 team scratch */
    char* tscratch[2];          /* this thread's level-0/1 thread scratch */
    int64_t cap[2], tcap[2], off[2], toff[2];
    TeamShared* sh;
    int local_sense;
    jmp_buf* abort_to; /* a failed scratch allocation ends this thread's work (all threads of the team fail alike) */

    KK_FUNCTION int64_t league_rank() const { return lrank; }
    KK_FUNCTION int64_t league_size() const { return lsize; }
    KK_FUNCTION int64_t team_rank() const { return trank; }
    KK_FUNCTION int64_t team_size() const { return tsize; }
    KK_FUNCTION bool vector_length_host_is_one() const { return true; } /* host vector lanes are simd lanes */

    void barrier() {
        if (tsize == 1) return;
        local_sense = !local_sense;
        if (__atomic_add_fetch(&sh->bar.count, 1, __ATOMIC_ACQ_REL) == tsize) {
            __atomic_store_n(&sh->bar.count, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&sh->bar.sense, local_sense, __ATOMIC_RELEASE);
        } else {
            int spins = 0;
            while (__atomic_load_n(&sh->bar.sense, __ATOMIC_ACQUIRE) != local_sense) {
                if (++spins > 1000) sched_yield();
                if (__atomic_load_n(&err_flag, __ATOMIC_RELAXED)) longjmp(*abort_to, 1); /* never wait forever */
            }
        }
    }

    /* The iterations this participant runs of [b, e) at a level, as lo/hi/stride. Team-level ranges give each
     * team thread one contiguous chunk; a vector range is the thread's own (its lanes are simd iterations). */
    KK_FUNCTION void range(int level, int64_t b, int64_t e, int64_t* lo, int64_t* hi, int64_t* st) const {
        *st = 1;
        if (level == LEVEL_VECTOR || tsize == 1 || e <= b) { *lo = b; *hi = e > b ? e : b; return; }
        host::chunk(b, e, tsize, trank, lo, hi);
    }

    /* Scans need contiguous chunks in rank order; on the host range() already gives them. */
    KK_FUNCTION void chunk(int level, int64_t b, int64_t e, int64_t* lo, int64_t* hi, int64_t* st) const {
        range(level, b, e, lo, hi, st);
    }

    KK_FUNCTION bool single(int per) const { return per == PER_THREAD || trank == 0; }

    /* Join a value over the participants of a level; every participant gets the result. */
    template <class R, class T> T reduce(int level, T v) {
        if (level == LEVEL_VECTOR || tsize == 1) return v;
        ((T*)sh->slots)[trank] = v;
        barrier();
        T r = R::template identity<T>();
        for (int s = 0; s < tsize; ++s) R::join(r, ((T*)sh->slots)[s]);
        barrier();
        return r;
    }

    /* Exclusive prefix of `v` over the team threads (in rank order) and the total. */
    template <class T> T scan_prefix(int level, T v, T* total) {
        if (level == LEVEL_VECTOR || tsize == 1) { *total = v; return (T)0; }
        ((T*)sh->slots)[trank] = v;
        barrier();
        T p = (T)0, t = (T)0;
        for (int s = 0; s < tsize; ++s) {
            if (s == trank) p = t;
            t = (T)(t + ((T*)sh->slots)[s]);
        }
        barrier();
        *total = t;
        return p;
    }

    /* Bump allocation in scratch memory: every thread makes the same allocations, so all see the same
     * addresses for team scratch. Running out is reported, never written past. */
    char* scratch_alloc(int64_t level, bool per_thread, int64_t bytes) {
        if (level < 0 || level > 1) {
            if (err_claim()) err_copy("the scratch level must be 0 or 1", 0);
            longjmp(*abort_to, 1);
        }
        int64_t* o = per_thread ? &toff[level] : &off[level];
        const int64_t c = per_thread ? tcap[level] : cap[level];
        bytes = (bytes + 7) / 8 * 8;
        if (*o + bytes > c) {
            scratch_fail(level, *o + bytes, c);
            longjmp(*abort_to, 1); /* no View over memory that is not there */
        }
        char* p = (per_thread ? tscratch[level] : scratch[level]) + *o;
        *o += bytes;
        return p;
    }

    void scratch_fail(int64_t level, int64_t need, int64_t have) {
        if (!err_claim()) return;
        int at = 0;
        err_copy("scratch memory exhausted at level ", at); while (err_msg[at]) ++at;
        at = err_num(level, at);
        err_copy(": the kernel needs ", at); while (err_msg[at]) ++at;
        at = err_num(need, at);
        err_copy(" bytes but set_scratch_size gave ", at); while (err_msg[at]) ++at;
        at = err_num(have, at);
    }
};

/* Run `f(team[, acc])` for every league rank. Threads form teams of tsize; teams take contiguous blocks of the
 * league. Returns false (with a message) when the team size cannot be honoured. */
template <class F, class Acc, class Red>
bool team_run(const kk_launch_t* L, const F& f0, Acc* result) {
    const int64_t league = L->lo[0];
    const int tsize = (int)L->lo[1], vlen = (int)L->lo[2];
    const int64_t s_team[2] = {L->hi[0], L->hi[1]}, s_thread[2] = {L->hi[2], L->hi[3]};
#ifdef _OPENMP
    const int avail = L->nthreads;
#else
    const int avail = 1;
#endif
    if (tsize < 1 || tsize > avail || tsize > 64) {
        if (err_claim()) {
            int at = 0;
            err_copy("team_size ", at); while (err_msg[at]) ++at;
            at = err_num(tsize, at);
            err_copy(" is more than this space runs at once (", at); while (err_msg[at]) ++at;
            at = err_num(avail < 64 ? avail : 64, at);
            err_copy(" threads); use pk.AUTO or a smaller team", at);
        }
        return false;
    }
    int64_t nteams = avail / tsize;
    if (nteams > league) nteams = league > 0 ? league : 1;
    const int64_t per_team = s_team[0] + s_team[1] + tsize * (s_thread[0] + s_thread[1]);
    char* mem = (char*)aligned_alloc(64, (size_t)((nteams * (sizeof(TeamShared) + per_team) + 63) / 64 * 64 + 64));
    if (!mem) {
        if (err_claim()) err_copy("out of host memory for team scratch", 0);
        return false;
    }
    TeamShared* shared = (TeamShared*)mem;
    char* scratch = mem + nteams * sizeof(TeamShared);
    for (int64_t t = 0; t < nteams; ++t) {
        shared[t].bar.count = 0;
        shared[t].bar.sense = 0;
        shared[t].stop_at = INT64_MAX;
    }
    const int nthreads = (int)(nteams * tsize);
    Acc* partial = (Acc*)__builtin_alloca(sizeof(Acc) * (nthreads > 0 ? nthreads : 1));
    for (int t = 0; t < nthreads; ++t) partial[t] = Red::template identity<Acc>();
    KK_PRAGMA(omp parallel num_threads(nthreads) if (nthreads > 1)) {
        const F f = f0;
        const int tid = omp_get_thread_num();
        const int64_t slot = tid / tsize;
        Team tm;
        tm.lsize = league;
        tm.trank = tid % tsize;
        tm.tsize = tsize;
        tm.vlen = vlen;
        tm.sh = &shared[slot];
        tm.local_sense = 0;
        char* base = scratch + slot * per_team;
        tm.scratch[0] = base;
        tm.scratch[1] = base + s_team[0];
        tm.tscratch[0] = base + s_team[0] + s_team[1] + tm.trank * s_thread[0];
        tm.tscratch[1] = base + s_team[0] + s_team[1] + tsize * s_thread[0] + tm.trank * s_thread[1];
        for (int k = 0; k < 2; ++k) { tm.cap[k] = s_team[k]; tm.tcap[k] = s_thread[k]; }
        int64_t lb, le;
        chunk(0, league, (int)nteams, (int)slot, &lb, &le);
        Acc acc = Red::template identity<Acc>();
        jmp_buf jb;
        tm.abort_to = &jb;
        Poller p(L, tid);
        if (setjmp(jb) == 0) {
            for (int64_t lr = lb; lr < le; ++lr) {
                tm.lrank = lr;
                tm.off[0] = tm.off[1] = tm.toff[0] = tm.toff[1] = 0;
                f(tm, acc);
                /* Ctrl-C: the team's rank 0 decides before the barrier, every thread of the team reads the
                 * decision after it, so all stop after the same league rank (none is left waiting) */
                if (tm.trank == 0 && lr + 1 < le && p.tick(POLL_BLOCK / 8))
                    __atomic_store_n(&tm.sh->stop_at, lr, __ATOMIC_RELAXED);
                tm.barrier(); /* the next league rank reuses the scratch */
                if (lr >= __atomic_load_n(&tm.sh->stop_at, __ATOMIC_RELAXED)) break;
            }
        }
        partial[tid] = acc;
    }
    if (result) {
        *result = Red::template identity<Acc>();
        for (int t = 0; t < nthreads; ++t) Red::join(*result, partial[t]);
    }
    free(mem);
    return true;
}

}  // namespace host

using TeamMember = host::Team;

}  // namespace kk

#endif
