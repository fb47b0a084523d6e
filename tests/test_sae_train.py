"""SAE training: a synthetic dictionary is recovered; activations stream to disk; training resumes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")


def _dictionary(n: int = 20000, seed: int = 0):
    """32 random unit atoms in 16 dims; each sample sums 3 of them with weights in [0.5, 1.5]."""
    gen = torch.Generator().manual_seed(seed)
    atoms = torch.randn(32, 16, generator=gen)
    atoms /= atoms.norm(dim=1, keepdim=True)
    idx = torch.stack([torch.randperm(32, generator=gen)[:3] for _ in range(n)])
    coef = torch.rand(n, 3, generator=gen) + 0.5
    return atoms, torch.einsum("nk,nkd->nd", coef, atoms[idx])


def test_topk_sae_recovers_a_synthetic_dictionary():
    from valuespectrum.sae.train import TrainConfig, train_sae

    torch.set_num_threads(1)
    atoms, x = _dictionary()
    res = train_sae(x, TrainConfig(d_sae=64, k=3, lr=3e-3, batch_size=256, epochs=8, dead_steps=50))
    w = res.sae.W_dec / res.sae.W_dec.norm(dim=1, keepdim=True)
    best = (atoms @ w.T).max(dim=1).values
    q = res.sae.quality(x)
    assert float((best >= 0.9).float().mean()) >= 0.9
    assert q["l0"] == 3.0
    # A linear encoder cannot always pick the right 3 of 32 overlapping atoms in 16 dims: the
    # tied oracle (true atoms as encoder and decoder) explains only about half the variance here.
    assert q["fve"] >= 0.9
    assert torch.allclose(res.sae.W_dec.norm(dim=1), torch.ones(64), atol=1e-5)


def test_relu_l1_training_is_sparse_and_reconstructs():
    from valuespectrum.sae.train import TrainConfig, train_sae

    torch.set_num_threads(1)
    _, x = _dictionary(4000, seed=1)
    res = train_sae(x, TrainConfig(architecture="relu", d_sae=64, l1=1.0, lr=3e-3, batch_size=256, epochs=20))
    q = res.sae.quality(x)
    assert res.sae.architecture == "relu" and q["fve"] > 0.8 and q["l0"] < 20


def test_collection_streams_shards_and_training_resumes(tmp_path):
    from tests.tiny_models import load_tiny_text_lm
    from valuespectrum.sae import load_sae, save_saelens
    from valuespectrum.sae.activations import ShardStore, collect_to_disk, corpus_texts, forward_capture
    from valuespectrum.sae.hooks import HookPoint
    from valuespectrum.sae.train import TrainConfig, train_sae

    torch.set_num_threads(1)
    _, model, tok = load_tiny_text_lm("llama")
    texts = corpus_texts()
    assert len(texts) > 500  # pydoc topics + banks + pairs
    point = HookPoint(1, "resid_post")
    seen: list[int] = []
    stats = collect_to_disk(
        model,
        tok,
        point,
        texts,
        tmp_path / "acts",
        context=32,
        batch_size=4,
        max_tokens=1000,
        shard_tokens=300,
        progress=lambda n, _t: seen.append(n),
    )
    store = ShardStore(tmp_path / "acts")
    assert stats.tokens == store.tokens == 1000 and [s["tokens"] for s in store.shards] == [
        300,
        300,
        300,
        100,
    ]
    assert seen[-1] == 1000
    # the first shard's rows are the layer-1 outputs of the first chunks, position 0 left out
    from valuespectrum.sae.activations import token_chunks

    first = torch.tensor(list(token_chunks(tok, texts, 32))[:12])
    want = forward_capture(model, point, first, stop_early=False)[:, 1:].reshape(-1, model.config.hidden_size)
    assert torch.allclose(store.load(0), want[:300], atol=1e-5)

    cfg = TrainConfig(
        d_sae=32, k=4, lr=1e-3, batch_size=64, epochs=2, checkpoint_every=3, hook_name=point.hook_name
    )
    whole = train_sae(store, cfg)
    part = train_sae(store, cfg, checkpoint_dir=tmp_path / "ck", max_steps=7)
    assert part.steps == 7 and (tmp_path / "ck" / "checkpoint.safetensors").is_file()
    rest = train_sae(store, cfg, checkpoint_dir=tmp_path / "ck")
    assert rest.steps == whole.steps == 2 * (5 + 5 + 5 + 2)
    assert torch.allclose(rest.sae.W_dec, whole.sae.W_dec, atol=1e-6)
    back = load_sae(save_saelens(rest.sae, tmp_path / "sae"))
    assert back.digest() == rest.sae.digest() and back.normalize == "scale"
    with pytest.raises(Exception, match="other settings"):
        train_sae(
            store, TrainConfig(d_sae=32, k=5, hook_name=point.hook_name), checkpoint_dir=tmp_path / "ck"
        )
