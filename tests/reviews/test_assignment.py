"""The automatic assigner, as a pure function: caps, conflicts, balance, sub-panel mixing,
what it reports when an application cannot be filled, and that it is deterministic."""

from __future__ import annotations

from collections import Counter

from grants.reviews.assigner import Candidate, Existing, propose_assignments


def reviewers(count: int, *, cap: int = 10, sub_panel: str = "", start: int = 1, load: int = 0) -> list[Candidate]:
    return [Candidate(reviewer_id=start + i, cap=cap, load=load, sub_panel=sub_panel) for i in range(count)]


def per_application(proposal) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    for application, reviewer in proposal.pairs:
        result.setdefault(application, []).append(reviewer)
    return result


def test_propose_gives_each_application_k_distinct_reviewers():
    proposal = propose_assignments(range(1, 7), reviewers(4), per_application=3)

    assigned = per_application(proposal)
    assert sorted(assigned) == [1, 2, 3, 4, 5, 6]
    assert all(len(set(r)) == 3 for r in assigned.values())
    assert proposal.unfilled == {}


def test_propose_balances_loads_within_one():
    proposal = propose_assignments(range(1, 8), reviewers(5), per_application=2)  # 14 slots over 5

    loads = Counter(reviewer for _, reviewer in proposal.pairs)
    assert max(loads.values()) - min(loads.values()) <= 1
    assert proposal.loads == {r: loads[r] for r in range(1, 6)}


def test_propose_counts_current_loads_when_balancing():
    busy = [Candidate(1, cap=10, load=4), Candidate(2, cap=10, load=0), Candidate(3, cap=10, load=0)]

    proposal = propose_assignments(range(1, 5), busy, per_application=1)

    assert proposal.loads == {1: 4, 2: 2, 3: 2}


def test_propose_respects_caps_and_reports_what_it_could_not_fill():
    proposal = propose_assignments(range(1, 5), [Candidate(1, cap=2), Candidate(2, cap=3, load=1)], per_application=2)

    loads = Counter(reviewer for _, reviewer in proposal.pairs)
    assert loads[1] <= 2 and loads[2] <= 2  # reviewer 2 had 1 already; cap 3
    assert len(proposal.pairs) == 4
    assert set(proposal.unfilled) == {a for a in range(1, 5) if len(per_application(proposal).get(a, [])) < 2}
    assert all("at their workload cap" in why for why in proposal.unfilled.values())


def test_propose_never_proposes_a_conflicted_pair():
    conflicts = {(1, 1), (1, 2), (2, 3)}

    proposal = propose_assignments([1, 2, 3], reviewers(4), per_application=2, conflicts=conflicts)

    assert not conflicts & set(proposal.pairs)
    assert proposal.unfilled == {}


def test_propose_reports_an_application_everyone_is_conflicted_on():
    conflicts = {(1, 1), (1, 2), (1, 3)}

    proposal = propose_assignments([1, 2], reviewers(3), per_application=2, conflicts=conflicts)

    assert 1 not in per_application(proposal)
    assert proposal.unfilled == {1: "0 of 2 reviewers: of 3 panel members, 3 conflicted."}


def test_propose_counts_existing_assignments_and_never_repeats_a_reviewer():
    existing = [Existing(1, 1), Existing(1, 2, counts=False)]  # 2 declined or was conflicted

    proposal = propose_assignments([1], reviewers(4), per_application=2, existing=existing)

    assert proposal.pairs == [(1, 3)]  # one more; neither 1 (has it) nor 2 (declined)


def test_propose_with_nobody_on_the_panel_says_so():
    proposal = propose_assignments([1], [], per_application=2)

    assert proposal.pairs == []
    assert proposal.unfilled == {1: "0 of 2 reviewers: the panel has no active members."}


def test_propose_with_too_small_a_panel_reports_the_shortfall():
    proposal = propose_assignments([1], reviewers(2), per_application=3)

    assert len(proposal.pairs) == 2
    assert proposal.unfilled[1].startswith("2 of 3 reviewers: of 2 panel members")


def test_propose_mixing_takes_one_from_each_sub_panel_first():
    panel = reviewers(3, sub_panel="Academic", start=1) + reviewers(2, sub_panel="Community", start=10)

    proposal = propose_assignments(range(1, 5), panel, per_application=2, mix_sub_panels=True)

    for application, chosen in per_application(proposal).items():
        assert {1, 2, 3} & set(chosen) and {10, 11} & set(chosen), application


def test_propose_without_mixing_may_take_one_sub_panel_only():
    panel = reviewers(3, sub_panel="Academic", start=1, load=0) + reviewers(2, sub_panel="Community", start=10, load=5)

    proposal = propose_assignments([1], panel, per_application=2)

    assert per_application(proposal)[1] == [1, 2]


def test_propose_mixing_counts_the_sub_panel_of_existing_reviewers():
    panel = reviewers(2, sub_panel="Academic", start=1) + reviewers(2, sub_panel="Community", start=10)

    proposal = propose_assignments([1], panel, per_application=2, existing=[Existing(1, 10)],
                                   mix_sub_panels=True)

    assert per_application(proposal)[1] in ([1], [2])


def test_propose_rearranges_proposed_pairs_to_fill_an_application_greedy_left_short():
    # Application 1 cannot take reviewer 3. Round one gives 1 → application 1 and 2 → application 2;
    # round two leaves application 1 with nobody free. Moving 2 over to application 1 and giving
    # application 2 reviewer 1 instead fills both.
    panel = [Candidate(1, cap=2), Candidate(2, cap=1), Candidate(3, cap=1)]

    proposal = propose_assignments([1, 2], panel, per_application=2, conflicts={(1, 3)})

    assert proposal.unfilled == {}
    assert per_application(proposal) == {1: [1, 2], 2: [1, 3]}


def test_propose_is_deterministic():
    panel = reviewers(6, cap=4) + reviewers(3, cap=4, sub_panel="Community", start=20)
    args = dict(per_application=3, conflicts={(2, 1), (5, 20)}, mix_sub_panels=True)

    first = propose_assignments(range(1, 10), panel, **args)
    second = propose_assignments(reversed(range(1, 10)), list(reversed(panel)), **args)

    assert first.pairs == second.pairs and first.unfilled == second.unfilled
