"""The automatic assigner: a pure function from a call's panel, its applications and what is
already assigned to a proposal of (application, reviewer) pairs, which the officer adjusts
and confirms. Nothing here touches the database; grants.reviews.services feeds it."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """An active panel member as the assigner sees them."""

    reviewer_id: int
    cap: int
    load: int = 0  # assignments on this call that already count toward the cap
    sub_panel: str = ""


@dataclass(frozen=True)
class Existing:
    """An assignment already made: its reviewer is never proposed again for that application;
    it counts toward the application's reviewers unless declined or conflicted."""

    application_id: int
    reviewer_id: int
    counts: bool = True


@dataclass
class Proposal:
    pairs: list[tuple[int, int]]  # (application_id, reviewer_id), sorted
    unfilled: dict[int, str] = field(default_factory=dict)  # application_id → why it got fewer than k
    loads: dict[int, int] = field(default_factory=dict)  # reviewer_id → load once confirmed

    def reviewers_for(self, application_id: int) -> list[int]:
        return [reviewer for application, reviewer in self.pairs if application == application_id]


def propose_assignments(application_ids: Iterable[int], candidates: Iterable[Candidate], *, per_application: int,
                        existing: Iterable[Existing] = (), conflicts: Iterable[tuple[int, int]] = (),
                        mix_sub_panels: bool = False) -> Proposal:
    """Give each application ``per_application`` distinct reviewers, counting those it has.

    Never proposes a conflicted pair (``conflicts``: (application_id, reviewer_id)), a reviewer
    already on the application (or who declined it), or a reviewer at their cap. Greedy, in
    rounds: each round gives every application still short one reviewer, the most constrained
    application first, each taking the least-loaded free reviewer (ties: lowest reviewer id), so
    loads stay within one of each other where the caps allow. With ``mix_sub_panels`` an
    application first takes a reviewer from each sub-panel it has none of. A short application
    then tries to free a reviewer by moving proposed pairs along (an augmenting path), so an
    application is reported unfilled only when no rearrangement of this proposal fills it.
    """
    applications = sorted(set(application_ids))
    pool = sorted(candidates, key=lambda c: c.reviewer_id)
    by_id = {c.reviewer_id: c for c in pool}
    load = {c.reviewer_id: c.load for c in pool}
    conflicted = set(conflicts)
    taken: dict[int, set[int]] = {a: set() for a in applications}
    counting: dict[int, list[int]] = {a: [] for a in applications}
    for assignment in existing:
        if assignment.application_id in taken:
            taken[assignment.application_id].add(assignment.reviewer_id)
            if assignment.counts:
                counting[assignment.application_id].append(assignment.reviewer_id)
    need = {a: max(0, per_application - len(counting[a])) for a in applications}
    proposed: dict[int, list[int]] = {a: [] for a in applications}

    def can_take(application: int, reviewer: int) -> bool:
        """Allowed at all (capacity aside)."""
        return ((application, reviewer) not in conflicted and reviewer not in taken[application]
                and reviewer not in proposed[application])

    def free(application: int) -> list[Candidate]:
        return [c for c in pool if load[c.reviewer_id] < c.cap and can_take(application, c.reviewer_id)]

    def pick(application: int) -> Candidate | None:
        choices = free(application)
        if mix_sub_panels:
            present = {by_id[r].sub_panel for r in counting[application] + proposed[application] if r in by_id}
            missing = [c for c in choices if c.sub_panel not in present]
            choices = missing or choices
        return min(choices, key=lambda c: (load[c.reviewer_id], c.reviewer_id), default=None)

    stuck: set[int] = set()
    while True:
        short = [a for a in applications if len(proposed[a]) < need[a] and a not in stuck]
        if not short:
            break
        for application in sorted(short, key=lambda a: (len(free(a)), a)):
            chosen = pick(application)
            if chosen is None:
                stuck.add(application)
                continue
            proposed[application].append(chosen.reviewer_id)
            load[chosen.reviewer_id] += 1

    def augment(target: int) -> bool:
        """Find a chain: target takes reviewer R1 from application A1, A1 takes R2 from A2, …,
        the last takes a reviewer with room. Apply it and return True, or False if none."""
        parent: dict[int, tuple[int, int]] = {}  # application → (application it gives to, reviewer)
        queue, seen = deque([target]), {target}
        while queue:
            application = queue.popleft()
            for candidate in pool:
                reviewer = candidate.reviewer_id
                if not can_take(application, reviewer):
                    continue
                if load[reviewer] < candidate.cap:
                    proposed[application].append(reviewer)
                    load[reviewer] += 1
                    while application != target:
                        receiver, moved = parent[application]
                        proposed[application].remove(moved)
                        proposed[receiver].append(moved)
                        application = receiver
                    return True
                for giver in applications:
                    if giver not in seen and reviewer in proposed[giver]:
                        seen.add(giver)
                        parent[giver] = (application, reviewer)
                        queue.append(giver)
        return False

    for application in sorted(stuck):
        while len(proposed[application]) < need[application] and augment(application):
            pass

    unfilled = {}
    for application in applications:
        have = len(counting[application]) + len(proposed[application])
        if have < per_application:
            unfilled[application] = _why_short(application, have, per_application, pool, load, conflicted, taken)
    pairs = sorted((a, r) for a in applications for r in proposed[a])
    return Proposal(pairs=pairs, unfilled=unfilled, loads=dict(load))


def _why_short(application: int, have: int, wanted: int, pool: list[Candidate], load: dict[int, int],
               conflicted: set[tuple[int, int]], taken: dict[int, set[int]]) -> str:
    if not pool:
        return f"{have} of {wanted} reviewers: the panel has no active members."
    reasons = []
    counts = {"conflicted": 0, "taken": 0, "full": 0}
    for candidate in pool:
        if (application, candidate.reviewer_id) in conflicted:
            counts["conflicted"] += 1
        elif candidate.reviewer_id in taken[application]:
            counts["taken"] += 1
        elif load[candidate.reviewer_id] >= candidate.cap:
            counts["full"] += 1
    if counts["conflicted"]:
        reasons.append(f"{counts['conflicted']} conflicted")
    if counts["taken"]:
        reasons.append(f"{counts['taken']} already on it (assigned, declined or conflicted)")
    if counts["full"]:
        reasons.append(f"{counts['full']} at their workload cap")
    members = f"{len(pool)} panel member{'s' if len(pool) != 1 else ''}"
    detail = "; ".join(reasons) if reasons else "the others are already proposed for it"
    return f"{have} of {wanted} reviewers: of {members}, {detail}."
