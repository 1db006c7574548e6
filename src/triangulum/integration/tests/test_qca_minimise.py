"""Boolean minimisation: textbook cases and an exhaustive check on every small function."""

from itertools import combinations, product

from hypothesis import given, settings
from hypothesis import strategies as st

from triangulum.integration.qca import SetData, analyse
from triangulum.integration.qca_minimise import Implicant, minimise, prime_implicants


def _as_text(cover, names="ABC"):
    width = len(names)
    terms = []
    for implicant in cover:
        terms.append(
            "".join(
                names[i] if present else names[i].lower()
                for i, present in implicant.literals(width)
            )
        )
    return sorted(terms)


def test_adjacent_configurations_merge():
    # A*B*C + A*B*~C = A*B; A*~B*C alone stays as it is unless merged with A*B*C into A*C.
    covers = minimise([0b111, 0b110, 0b101], width=3)
    assert [_as_text(c) for c in covers] == [["AB", "AC"]]


def test_cyclic_chart_has_two_minimal_solutions():
    # f = Σm(0,1,2,5,6,7): six prime implicants in a cycle, two covers of three each
    # (the standard example of a cyclic prime implicant chart).
    covers = minimise([0, 1, 2, 5, 6, 7], width=3)
    assert sorted(_as_text(c) for c in covers) == [["AB", "ac", "bC"], ["AC", "Bc", "ab"]]


def test_dont_cares_are_used_only_when_they_simplify():
    # With 0b011 free, ~A*B*~C and A*B*C… : on-set {2 (010), 7 (111)}, don't-care {3, 6}:
    # 010+011 = ~A*B, 110+111 = A*B, and all four together give B.
    assert [_as_text(c) for c in minimise([2, 7], [3, 6], width=3)] == [["B"]]
    # A don't-care that helps nothing is not forced into the answer.
    assert [_as_text(c) for c in minimise([7], [0], width=3)] == [["ABC"]]


def test_prime_implicants_must_cover_a_minterm():
    primes = prime_implicants([7], [0, 1], width=3)
    assert primes == [Implicant(value=7, mask=0)]


def _brute_force_minimal_covers(on, dont_care, width):
    allowed = set(on) | set(dont_care)
    implicants = []
    for mask in range(1 << width):
        for value in range(1 << width):
            if value & mask:
                continue
            imp = Implicant(value, mask)
            members = [m for m in range(1 << width) if imp.covers(m)]
            if all(m in allowed for m in members) and any(m in on for m in members):
                implicants.append(imp)
    primes = [
        p
        for p in implicants
        if not any(q != p and (p.mask & q.mask) == p.mask and q.covers(p.value) for q in implicants)
    ]
    for size in range(1, len(primes) + 1):
        found = [
            tuple(sorted(chosen))
            for chosen in combinations(primes, size)
            if all(any(p.covers(m) for p in chosen) for m in on)
        ]
        if found:
            return sorted(found)
    return []


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda w: st.tuples(
            st.just(w), st.lists(st.sampled_from("01?"), min_size=1 << w, max_size=1 << w)
        )
    )
)
def test_every_minimal_cover_is_found_on_small_functions(case):
    width, states = case
    on = [i for i, s in enumerate(states) if s == "1"]
    free = [i for i, s in enumerate(states) if s == "?"]
    assert minimise(on, free, width=width) == _brute_force_minimal_covers(on, free, width)


def test_analysis_reports_every_tied_model():
    # Crisp cases on each configuration of the cyclic function above, outcome present on
    # rows 0,1,2,5,6,7 and absent on 3 and 4.
    cases, a, b, c, y = [], [], [], [], []
    for number, (va, vb, vc) in enumerate(product((0, 1), repeat=3)):
        cases.append(f"case{number}")
        a.append(va)
        b.append(vb)
        c.append(vc)
        y.append(0 if number in (3, 4) else 1)
    data = SetData(
        case_ids=tuple(cases),
        memberships={"A": tuple(a), "B": tuple(b), "C": tuple(c), "Y": tuple(y)},
    )
    result = analyse(data, outcome="Y", conditions=["A", "B", "C"])
    assert sorted(s.expression for s in result.solutions) == [
        "A*B + ~A*~C + ~B*C",
        "A*C + ~A*~B + B*~C",
    ]
    assert all(s.consistency == 1.0 and s.coverage == 1.0 for s in result.solutions)
