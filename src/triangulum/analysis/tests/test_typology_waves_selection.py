from xml.etree import ElementTree

import numpy as np
import pytest

from triangulum.analysis import selection, svg, typology, waves


def planted(seed=0, n=450):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    profiles = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    codes = np.array([[rng.choice(3, p=profiles[(c + j) % 3]) for j in range(8)] for c in truth])
    codes[rng.random(codes.shape) < 0.05] = -1  # some missing answers
    return codes, truth


def test_adjusted_rand_index_known_values():
    assert typology.adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    # Hubert-Arabie on a 2x2 split: index 1, expected 2*2/6, max 2.
    assert typology.adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(
        (0 - 2 / 3) / (2 - 2 / 3)
    )


def test_lca_recovers_planted_classes_and_bic_picks_three():
    codes, truth = planted()
    result = typology.choose(codes, [3] * 8, seed=11, max_classes=5, starts=5, resamples=5)
    assert result.chosen.k == 3
    assert typology.adjusted_rand_index(result.classes, truth) > 0.9
    assert result.stability > 0.9
    assert [m.k for m in result.models] == [1, 2, 3, 4, 5]


def test_same_seed_same_typology():
    codes, _ = planted(seed=4, n=200)
    a = typology.choose(codes, [3] * 8, seed=5, max_classes=4, starts=3, resamples=3)
    b = typology.choose(codes, [3] * 8, seed=5, max_classes=4, starts=3, resamples=3)
    assert np.array_equal(a.classes, b.classes) and a.stability == b.stability


def test_bad_codes_are_named():
    with pytest.raises(typology.TypologyError, match=r"row\) 2, item 1"):
        typology.fit(np.array([[0, 1], [5, 1]]), [3, 3], 1, rng=np.random.default_rng(0))


def test_successions_followed_or_combined():
    successions = {"A": "C", "B": "C", "C": "D"}
    assert waves.successor_of("A", successions) == "D"
    members = {"A": ["hi"], "B": ["lo", "lo", "lo"], "E": ["hi"]}
    first = {code: waves_lower(values) for code, values in members.items()}
    second = {"D": "hi", "E": "lo"}
    follow = waves.organisation_pairs(first, second, successions, rule="follow")
    assert follow[0] == {"A": "hi", "B": "lo", "E": "hi"} and follow[1]["A"] == "hi"
    combine = waves.organisation_pairs(
        first, second, successions, rule="combine", first_members=members, combine=waves_lower
    )
    # A and B pool under D: hi, lo, lo, lo → lower median lo.
    assert combine[0] == {"D": "lo", "E": "hi"}
    with pytest.raises(waves.WaveComparisonError):
        waves.successor_of("X", {"X": "Y", "Y": "X"})


def waves_lower(values):
    from triangulum.analysis.tidy import lower_median

    return lower_median(values, ("lo", "hi"))


def test_paired_tests():
    binary = np.array([[30, 5], [15, 50]])
    result = waves.paired_test(binary)
    assert result["test"].startswith("McNemar") and result["statistic"] == pytest.approx(
        (abs(5 - 15) - 1) ** 2 / 20
    )
    assert waves.paired_test(np.array([[3, 0], [0, 4]]))["test"] == "none"


def test_selection_spans_classes_with_reasons():
    candidates = [
        selection.Candidate(
            f"C{i}",
            f"CCG {i}",
            1 + i % 3,
            0.9 + 0.001 * i,
            {"region": ["North", "South"][i % 2]},
            {"patients": float(i)},
        )
        for i in range(30)
    ]
    rows = selection.propose_sites(candidates, 5)
    assert {r["typology_class"] for r in rows[:3]} == {1, 2, 3}
    assert len(rows) == 5 and all("class" in r["reason"] for r in rows)
    assert len({r["code"] for r in rows}) == 5


def test_svg_is_well_formed_and_described():
    text = svg.diverging_bars(
        [("Item <one>", [0.1, 0.2, 0.3, 0.4])],
        ["a", "b", "c", "d"],
        title="Chart",
        note="Simulated data.",
    )
    root = ElementTree.fromstring(text)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.find(f"{ns}title").text == "Chart"
    assert "Item <one>: a 10%" in root.find(f"{ns}desc").text
