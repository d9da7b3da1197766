"""Section A's training: A1, A2 and A3 in one engine job, each experiment its own cache entry."""

import numpy as np
import pytest

#: A small section A: every experiment, few seeds and steps (A3 at its n = 60, m = 6: dense and sparse instances).
SMALL = {
    "toy": {"steps": 60, "batch_size": 64, "log_every": 20},
    "background": {
        "a1_probabilities": [1.0, 0.1],
        "a1_seeds": 3,
        "a2_n_features": 8,
        "a2_hidden": 3,
        "a2_probabilities": [1.0, 0.1, 0.01],
        "a2_seeds": 2,
        "a3_probability_count": 4,
    },
}


def _ctx(tmp_path, cache="c", threads=0):
    from supviz.runtime.cache import Cache
    from supviz.study.config import config_from_dict
    from supviz.study.context import RunContext

    cfg = config_from_dict({**SMALL, "toy": {**SMALL["toy"], "threads": threads}})
    return RunContext(config=cfg, out=tmp_path, cache=Cache(tmp_path / cache))


def _wanted(ctx):
    from supviz.study.background.section import experiments

    bg = ctx.config.section("background")
    seeds = {"A1": list(range(bg.a1_seeds)), "A2": list(range(bg.a2_seeds)), "A3": [0]}
    return {name: (*exp, seeds[name]) for name, exp in experiments(ctx.config).items()}


def _alone(ctx, name, replicate):
    """One run of one experiment trained by itself (``supviz.toy.train_grid`` of its own config)."""
    from supviz import toy
    from supviz.study.background.section import experiments, small_config

    return toy.train_grid(small_config(ctx.config, name, *experiments(ctx.config)[name], replicate=replicate))


def test_the_three_experiments_trained_together_equal_each_trained_alone(tmp_path):
    """A1, A2 and A3 (three n_features) train in one queue of parts on two threads; every run of every seed has the
    bits of its own config trained alone: each instance reads only its own seed's numbers."""
    from supviz.study.background.section import train_experiments

    ctx = _ctx(tmp_path)
    wanted = _wanted(ctx)
    runs = train_experiments(ctx, wanted)
    assert list(runs) == ["A1", "A2", "A3"]
    for name, (n, m, probs, imp, replicates) in wanted.items():
        assert len(runs[name]) == len(replicates)
        for r, run in zip(replicates, runs[name]):
            alone = _alone(ctx, name, r)
            assert (run.name, run.n_features, run.hidden, run.probabilities) == (name, n, m, list(probs))
            for j, p in enumerate(probs):
                i = next(i for i, s in enumerate(alone.specs) if s.probability == pytest.approx(p, abs=1e-12))
                np.testing.assert_array_equal(run.weights[j], np.asarray(alone.weights[i], dtype=np.float64))
                assert run.losses[j] == float(alone.losses[i][-1])
    assert not np.array_equal(runs["A1"][0].weights[-1], runs["A1"][1].weights[-1])  # the seeds differ
    assert ctx.cache.stats.misses == {"train": 3}


def test_each_experiment_is_its_own_cache_entry_so_a_hit_and_a_miss_mix(tmp_path, monkeypatch):
    """A2 cached by an earlier run under the key it had when it trained alone: the next run reads it and trains only
    A1 and A3 (one job of two groups), with the bits of a run that trained all three."""
    from supviz.study import adapters
    from supviz.study.background.section import _train_replicates, train_experiments

    whole = train_experiments(_ctx(tmp_path, "whole"), _wanted(_ctx(tmp_path, "whole")))
    ctx = _ctx(tmp_path)
    wanted = _wanted(ctx)
    _train_replicates(ctx, "A2", *wanted["A2"][:4], replicates=wanted["A2"][4])  # A2 alone: its entry
    trained = []
    train_groups = adapters.train_groups
    monkeypatch.setattr(
        adapters, "train_groups", lambda groups, *a, **k: trained.append(len(groups)) or train_groups(groups, *a, **k)
    )
    ctx2 = _ctx(tmp_path)  # a later run: the same cache folder
    runs = train_experiments(ctx2, wanted)
    assert trained == [2]  # A1 and A3, together
    assert ctx2.cache.stats.hits == {"train": 1} and ctx2.cache.stats.misses == {"train": 2}
    for name in wanted:
        for got, want in zip(runs[name], whole[name]):
            assert got.losses == want.losses
            for a, b in zip(got.weights, want.weights):
                np.testing.assert_array_equal(a, b)
    ctx3 = _ctx(tmp_path)  # and a third run reads all three
    assert train_experiments(ctx3, wanted)["A3"][0].losses == whole["A3"][0].losses
    assert trained == [2] and ctx3.cache.stats.hits == {"train": 3}


def test_each_experiment_is_stored_as_its_training_ends_so_a_failed_run_keeps_it(tmp_path, monkeypatch):
    """A1's training fails (here at its first step) after A3's and A2's parts ended (one thread: the queue's order,
    most expensive first): A2 and A3 are in the cache already, and the next run trains only A1."""
    from supviz.study.background.section import train_experiments
    from supviz.toy import _engine

    ctx = _ctx(tmp_path, threads=1)
    wanted = _wanted(ctx)
    real = _engine.Shard.train

    def train(self, *args, **kwargs):
        if self.n == 2:
            raise RuntimeError("A1 failed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_engine.Shard, "train", train)
    with pytest.raises(RuntimeError, match="A1 failed"):
        train_experiments(ctx, wanted)
    monkeypatch.undo()
    again = _ctx(tmp_path, threads=1)
    runs = train_experiments(again, wanted)
    assert again.cache.stats.hits == {"train": 2} and again.cache.stats.misses == {"train": 1}
    assert [len(runs[name]) for name in wanted] == [len(w[4]) for w in wanted.values()]
