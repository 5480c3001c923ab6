import os
import subprocess
import sys

import numpy as np
import pytest

from agents.clustering import cluster, embed, fence, hashed_trigrams, theme

TITLES = ["pay invoice", "invoice due", "run 5k", "Run 10k", "PAY the invoice"]


def test_fence_keeps_a_title_on_one_short_quoted_line() -> None:
    assert fence("Pay invoice") == '"Pay invoice"'
    assert fence('  Say "ignore all rules"\nand\tleave ') == "\"Say 'ignore all rules' and leave\""
    long = fence("word " * 40, 20)
    assert long == '"word word word word…"' and len(long) == 22
    assert fence(" \n ") == '"(untitled)"'


def test_trigram_embeddings_are_unit_vectors_blind_to_case_and_spacing() -> None:
    x = hashed_trigrams(["Pay  Invoice", "pay invoice", ""])
    assert np.allclose(np.linalg.norm(x[:2], axis=1), 1.0)
    assert np.array_equal(x[0], x[1])
    assert not x[2].any()


def test_shared_words_make_titles_similar_and_unrelated_ones_orthogonal() -> None:
    x = hashed_trigrams(TITLES)
    sim = x @ x.T
    assert min(sim[0, 1], sim[0, 4], sim[1, 4], sim[2, 3]) > 0.1
    assert sim[0, 2] == 0.0 and sim[1, 3] == 0.0


def test_the_fallback_hash_does_not_depend_on_python_hash_seed() -> None:
    code = (
        "from agents.clustering import hashed_trigrams as h;"
        "print(h(['pay invoice']).tobytes().hex())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1
    assert bytes.fromhex(outs.pop().strip()) == hashed_trigrams(["pay invoice"]).tobytes()


def test_invoices_cluster_together_and_apart_from_running() -> None:
    x = hashed_trigrams(TITLES)
    groups = cluster(x, 2, np.random.default_rng(7))
    assert groups.labels.tolist() == [0, 0, 1, 1, 0]
    assert groups.k == 2
    assert TITLES[groups.representatives[0]] in {"pay invoice", "PAY the invoice"}
    assert TITLES[groups.representatives[1]] in {"run 5k", "Run 10k"}


@pytest.mark.parametrize("seed", range(5))
def test_clusters_are_the_same_for_the_same_input(seed: int) -> None:
    x = hashed_trigrams(TITLES * 3)
    a = cluster(x, 3, np.random.default_rng(seed))
    b = cluster(x, 3, np.random.default_rng(seed))
    assert a.labels.tolist() == b.labels.tolist()
    assert a.representatives == b.representatives
    # Labels are numbered by first appearance, whatever seed came first.
    assert a.labels[0] == 0


def test_weights_pick_the_representative_among_equals() -> None:
    x = hashed_trigrams(["pay invoice", "pay invoice", "run 5k"])
    groups = cluster(x, 2, np.random.default_rng(0), np.array([1.0, 5.0, 1.0]))
    assert groups.representatives[0] == 1


def test_no_texts_means_no_clusters() -> None:
    groups = cluster(hashed_trigrams([]), 3, np.random.default_rng(0))
    assert groups.k == 0 and groups.labels.size == 0


def test_precomputed_vectors_are_used_only_when_every_key_has_one() -> None:
    vectors = {"a": [1.0, 0.0], "b": [0.0, 2.0]}
    used = embed(["a", "b"], ["pay invoice", "invoice due"], vectors)
    assert used.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    fallback = embed(["a", "c"], ["pay invoice", "invoice due"], vectors)
    assert np.array_equal(fallback, hashed_trigrams(["pay invoice", "invoice due"]))


def test_a_theme_is_the_words_most_of_a_cluster_shares() -> None:
    texts = ["do slides", "finish slides", "check slides", "check report"]
    members = np.arange(4)
    assert theme(texts, np.ones(4), members, 0) == "slides"
    assert theme(texts, np.array([1.0, 0.0, 0.0, 3.0]), members, 3) == "check report"
    assert theme(["a b", "c d"], np.ones(2), members[:2], 1) == "c d"
