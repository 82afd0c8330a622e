"""Parsing of judge outputs (spec §4) and scalar-reward ranks (spec §5).

Expected predictions are worked out by hand from the spec's rules; the comment on each row says how.
A prediction is the predicted rank of each presented slot (``[0, 1]`` = A better); ``[]`` = unparsed.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longrm_tasks.parsing import (
    OFFICIAL_RANKING_PATTERN,
    RANKING_PATTERN,
    parse_pairwise,
    parse_ranking,
    parse_verdict,
    ranks_from_rewards,
)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# ----------------------------------------------------------------------------------------------
# Pairwise: "[[A]]" anywhere -> [0, 1]; else "[[B]]" -> [1, 0]; else [].
PAIRWISE_CASES = [
    ("[[A]]", [0, 1]),
    ("[[B]]", [1, 0]),
    ("Final verdict: [[B]].", [1, 0]),
    ("At first [[B]] seemed right, but [[A]]", [0, 1]),  # A is checked first even if B comes first
    ("[[A]] and [[B]]", [0, 1]),
    ("[[B]]\n[[A]]", [0, 1]),
    ("no verdict here", []),
    ("", []),
    ("[A]", []),  # single brackets are not the pattern
    ("[B]", []),
    ("[[a]]", []),  # lowercase is not the pattern
    ("[[b]]", []),
    ("[[ A ]]", []),  # inner spaces break the exact substring
    ("[[AB]]", []),
    ("[[Assistant A]]", []),
    ("[[[B]]]", [1, 0]),  # contains "[[B]]"
    ("[[A>B]]", []),  # a ranking is not a pairwise verdict
    ("[[A]]" + ">" * 20, [0, 1]),  # the ">" limit is for rankings only
    ("\uff3b\uff3bA\uff3d\uff3d", []),  # full-width brackets
    ("« verdict » → [[B]] ✓ 🎉", [1, 0]),  # unicode around the verdict
]


@pytest.mark.parametrize(("text", "expected"), PAIRWISE_CASES)
def test_parse_pairwise(text, expected):
    assert parse_pairwise(text) == expected


# ----------------------------------------------------------------------------------------------
# Best-of-N: >9 ">" anywhere -> []; first match of \[[\w\s]+(?:\s*>\s*[\w\s]+)+\]; split on ">";
# delete "assistant", "Assistant", ":", " "; strip "[" / "]"; letter -> ord - 65 = ids in ranked
# order; prediction[p] = ids.index(p). Any non-capital / non-single piece or non-permutation -> [].
RANKING_CASES = [
    ("[[A>B]]", [0, 1]),  # ids [0,1]
    ("[[B>A]]", [1, 0]),  # ids [1,0]: A is 2nd, B is 1st
    ("[[C>A>B]]", [1, 2, 0]),  # spec example: ids [2,0,1]
    ("[[A>B>C]]", [0, 1, 2]),
    ("[[B>C>A>D]]", [2, 0, 1, 3]),  # ids [1,2,0,3]: A at 2, B at 0, C at 1, D at 3
    ("[[D>A>C>B]]", [1, 3, 2, 0]),  # ids [3,0,2,1]: A at 1, B at 3, C at 2, D at 0
    ("[[D>C>B>A]]", [3, 2, 1, 0]),
    ("[[A > B > C]]", [0, 1, 2]),  # spaces deleted
    ("[[ C > B > A ]]", [2, 1, 0]),
    ("[[A   >   B]]", [0, 1]),
    ("[[Assistant B > Assistant A > Assistant C]]", [1, 0, 2]),  # "Assistant" deleted; ids [1,0,2]
    ("[[assistant C > assistant B > assistant A]]", [2, 1, 0]),  # "assistant" deleted too
    ("[[AssistantA>AssistantB]]", [0, 1]),
    ("Ranking: [[B>A]]", [1, 0]),  # colon outside the brackets
    ("[Analysis]\nA is vague, B is wrong.\n[Ranking]\n[[C>B>A]]", [2, 1, 0]),  # [Analysis] has no ">"
    ("[[B>A>C]] on reflection [[A>B>C]]", [1, 0, 2]),  # FIRST match wins
    ("[[A > B]] > [[B > A]]", [0, 1]),  # first match "[A > B]"
    ("[Note A > B] so [[B>A]]", []),  # first match is "[Note A > B]" -> piece "NoteA" -> []
    ("a->b->c->d->e->f->g->h means [[B>A]]", [1, 0]),  # 7 + 1 = 8 ">" (<= 9), decoy not bracketed
    ("[[A>A]]", []),  # duplicate -> not a permutation
    ("[[A>C]]", []),  # ids [0,2]: gap
    ("[[B>C]]", []),  # ids [1,2]: no A
    ("[[a>b]]", []),  # lowercase is not a capital letter
    ("[[c>a>b]]", []),
    ("[[AB>C]]", []),  # multi-letter piece
    ("[[Assistant_A>Assistant_B]]", []),  # "_A" after deletion
    ("[[1>2>3]]", []),  # digits
    ("[[0>1]]", []),
    ("[[A>\nB]]", []),  # newline is not a deleted space: piece "\nB"
    ("[[A\n>\nB]]", []),
    ("[[A\t>\tB]]", []),  # tab is not a space either
    ("[[A:>B]]", []),  # ":" is not in [\w\s], so no regex match at all
    ("[[A>>B]]", []),  # empty piece between the arrows: no match
    ("[[A>B>]]", []),  # trailing arrow: no match
    ("[B>A]", [1, 0]),  # single brackets match the regex
    ("[[A>B]", [0, 1]),  # match "[A>B]"
    ("[A>B]]", [0, 1]),
    ("[[\uff21>B]]", []),  # full-width A is \w but not a capital ASCII letter
    ("Ranking — [[B > A]] ✓ 🎉", [1, 0]),  # unicode around the ranking
    ("", []),
    ("[[A]]", []),  # no ">" -> no ranking match
    ("[[B]]", []),
    ("no ranking at all", []),
    ("[[E>D>C>B>A]]", [4, 3, 2, 1, 0]),  # 5-way, ids [4,3,2,1,0]
    ("[[B>E>A>D>C]]", [2, 0, 4, 3, 1]),  # ids [1,4,0,3,2]: A at 2, B 0, C 4, D 3, E 1
    ("[[A>B>C>D>E>F>G>H>I>J]]", list(range(10))),  # exactly 9 ">" -> allowed
    ("[[J>I>H>G>F>E>D>C>B>A]]", list(range(9, -1, -1))),
    ("[[A>B>C>D>E>F>G>H>I>J>K]]", []),  # 10 ">" -> rejected
    ("[[A>B>C]]" + " >" * 7, [0, 1, 2]),  # 2 + 7 = 9 ">" anywhere -> still parsed
    ("[[A>B>C]]" + " >" * 8, []),  # 2 + 8 = 10 ">" anywhere -> []
    (">>>>>>>> [[B>A]]", [1, 0]),  # 8 + 1 = 9 ">" -> allowed; first match "[B>A]"
    (">>>>>>>>> [[B>A]]", []),  # 9 + 1 = 10 ">" -> []
]


@pytest.mark.parametrize(("text", "expected"), RANKING_CASES)
def test_parse_ranking(text, expected):
    assert parse_ranking(text) == expected


def test_table_sizes():
    assert len(PAIRWISE_CASES) + len(RANKING_CASES) >= 40


def test_ranking_shorter_than_n_is_returned_as_is():
    # Spec §4: "[[A>B]]" when N = 3 -> [0, 1]; the parser does not know N (scoring gives 2/3).
    assert parse_ranking("[Analysis] fine.\n[Ranking]\n[[A>B]]") == [0, 1]


@pytest.mark.parametrize(
    ("text", "tasktype", "expected"),
    [
        ("[[B]]", "PairWise", [1, 0]),
        ("[[B]]", "BestOfN", []),  # a pairwise verdict has no ">"
        ("[[B>A]]", "PairWise", []),  # pairwise only looks for [[A]] / [[B]]
        ("[[B>A]]", "BestOfN", [1, 0]),
        ("[[A]] then [[C>A>B]]", "BestOfN", [1, 2, 0]),
        ("[[A]] then [[C>A>B]]", "PairWise", [0, 1]),
        ("[[A]]" + ">" * 10, "PairWise", [0, 1]),
        ("[[A>B]]" + ">" * 9, "BestOfN", []),
    ],
)
def test_parse_verdict_dispatch(text, tasktype, expected):
    assert parse_verdict(text, tasktype) == expected


# ----------------------------------------------------------------------------------------------
# Scalar RMs (spec §5): sort slots by reward descending, stable (tie -> earlier slot ranks higher).
@pytest.mark.parametrize(
    ("rewards", "expected"),
    [
        ([2.0, 1.0], [0, 1]),
        ([1.0, 2.0], [1, 0]),
        ([1.0, 1.0], [0, 1]),  # tie -> A first
        ([0.1, 0.5, 0.3], [2, 0, 1]),  # order B, C, A
        ([0.5, 0.5, 0.9], [1, 2, 0]),  # C, then tie A before B
        ([3, 3, 3, 3], [0, 1, 2, 3]),
        ([-1.0, -0.5, -2.0, -0.5], [2, 0, 3, 1]),  # B, D (tie, B earlier), A, C
        ([0.0, -0.0], [0, 1]),  # equal floats
        ([1e-9, 0.0, 5.0, -3.0], [1, 2, 0, 3]),  # C, A, B, D
        ([7.5], [0]),
        ([], []),
    ],
)
def test_ranks_from_rewards(rewards, expected):
    assert ranks_from_rewards(rewards) == expected


# ----------------------------------------------------------------------------------------------
# Properties.
def _is_valid_prediction(result):
    return result == [] or sorted(result) == list(range(len(result)))


ranking_alphabet = st.text(alphabet="[]>ABCDabc :\n\t_1Assistant", max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), ranking_alphabet))
def test_parsers_never_raise_and_are_well_formed(text):
    ranking = parse_ranking(text)
    pairwise = parse_pairwise(text)
    assert _is_valid_prediction(ranking)
    assert pairwise in ([], [0, 1], [1, 0])
    if text.count(">") > 9:
        assert ranking == []
    # deterministic
    assert parse_ranking(text) == ranking
    assert parse_pairwise(text) == pairwise
    assert parse_verdict(text, "BestOfN") == ranking
    assert parse_verdict(text, "PairWise") == pairwise


@st.composite
def decorated_rankings(draw):
    n = draw(st.integers(min_value=2, max_value=10))
    ids = draw(st.permutations(list(range(n))))
    prefix = draw(st.sampled_from(["", "Assistant ", "assistant ", " "]))
    gap = draw(st.sampled_from([">", " > ", "  >", "> "]))
    before = draw(st.text(alphabet="abc xyz.,\n", max_size=30))
    text = before + "[[" + gap.join(prefix + LETTERS[i] for i in ids) + "]]"
    return text, ids


@settings(max_examples=200, deadline=None)
@given(decorated_rankings())
def test_well_formed_rankings_give_inverse_permutation(case):
    text, ids = case
    # slot p's rank is its position in the ranked list
    assert parse_ranking(text) == [ids.index(p) for p in range(len(ids))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, width=32), max_size=8))
def test_ranks_from_rewards_properties(rewards):
    ranks = ranks_from_rewards(rewards)
    assert sorted(ranks) == list(range(len(rewards)))
    for a in range(len(rewards)):
        for b in range(a + 1, len(rewards)):
            # higher reward -> better (smaller) rank; tie -> earlier slot better
            if rewards[a] >= rewards[b]:
                assert ranks[a] < ranks[b]
            else:
                assert ranks[a] > ranks[b]


# ----------------------------------------------------------------------------------------------
# A 1 MB judge output: parsed quickly, never raises.
MEGABYTE = 1_000_000


@pytest.mark.parametrize(
    ("text", "ranking", "pairwise"),
    [
        (("lorem ipsum " * (MEGABYTE // 12)) + "[[C>A>B]]", [1, 2, 0], []),
        (("[Analysis] words here " * (MEGABYTE // 22)) + "[[B>A]] [[B]]", [1, 0], [1, 0]),
        ("[" + "word " * (MEGABYTE // 5), [], []),
        ("A > B. " * (MEGABYTE // 7) + "[[A]]", [], [0, 1]),  # far more than 9 ">"
        ("é漢字🎉 " * (MEGABYTE // 5), [], []),  # 5 characters a repeat,
        ("[a" + " " * MEGABYTE + ">b", [], []),  # backtracking worst case of the official regex
        ("[[A" + " " * MEGABYTE + "> B]]", [0, 1], []),
    ],
    ids=[
        "text-then-ranking",
        "bracket-decoys",
        "unclosed-bracket",
        "many-arrows",
        "unicode",
        "whitespace-run",
        "whitespace-run-valid",
    ],
)
def test_one_megabyte_output(text, ranking, pairwise):
    assert len(text) >= MEGABYTE * 0.9
    start = time.perf_counter()
    assert parse_ranking(text) == ranking
    assert parse_pairwise(text) == pairwise
    assert time.perf_counter() - start < 5.0


# ----------------------------------------------------------------------------------------------
# The fast ranking regex finds exactly the official regex's first match.
VERDICT_ALPHABET = st.sampled_from([*list("ABCab >[]:_1\n\té"), "[[", "]]", " > ", "Assistant"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(VERDICT_ALPHABET, max_size=24).map("".join))
def test_fast_ranking_pattern_matches_official(text):
    official = OFFICIAL_RANKING_PATTERN.search(text)
    fast = RANKING_PATTERN.search(text)
    assert (official and official.group(0)) == (fast and fast.group(0))
