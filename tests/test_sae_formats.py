"""SAE formats written by hand: SAELens, Gemma Scope npz, EleutherAI sparsify; encode cases; no pickles."""

from __future__ import annotations

import json

import pytest

from valuespectrum.errors import ConfigError

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")


def _saelens(folder, arch="standard", d=4, threshold=None, **cfg):
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    t = {"W_enc": torch.eye(d), "b_enc": torch.zeros(d), "W_dec": torch.eye(d), "b_dec": torch.zeros(d)}
    if threshold is not None:
        t["threshold"] = torch.full((d,), threshold)
    save_file(t, str(folder / "sae_weights.safetensors"))
    base = {"architecture": arch, "d_in": d, "d_sae": d, "hook_name": "blocks.1.hook_resid_post"}
    base["apply_b_dec_to_input"] = False
    (folder / "cfg.json").write_text(json.dumps({**base, **cfg}))
    return folder


def test_identity_saelens_folder_encodes_to_relu(tmp_path):
    from valuespectrum.sae import load_sae

    sae = load_sae(_saelens(tmp_path / "id"))
    x = torch.tensor([[1.5, -2.0, 0.0, 0.25], [-1.0, 3.0, -0.5, 2.0]])
    assert sae.architecture == "relu" and sae.hook_name == "blocks.1.hook_resid_post"
    assert torch.equal(sae.encode(x), torch.relu(x))
    assert torch.equal(sae.reconstruct(x), torch.relu(x))
    assert sae.metadata["format"] == "saelens"


def test_jumprelu_threshold_and_topk():
    from valuespectrum.sae import SparseAutoencoder

    eye, z = torch.eye(4), torch.zeros(4)
    jump = SparseAutoencoder("jumprelu", eye, z, eye, z, threshold=torch.full((4,), 0.5))
    assert torch.equal(jump.encode(torch.tensor([0.4, 0.6, -1.0, 0.5])), torch.tensor([0.0, 0.6, 0.0, 0.0]))
    topk = SparseAutoencoder("topk", eye, z, eye, z, k=2)
    assert torch.equal(topk.encode(torch.tensor([3.0, 1.0, 2.0, 0.0])), torch.tensor([3.0, 0.0, 2.0, 0.0]))


def test_gemma_scope_npz_loads_to_the_same_tensors_as_saelens(tmp_path):
    import numpy as np

    from valuespectrum.sae import load_sae

    gen = torch.Generator().manual_seed(0)
    t = {
        "W_enc": torch.randn(6, 10, generator=gen),
        "W_dec": torch.randn(10, 6, generator=gen),
        "b_enc": torch.randn(10, generator=gen),
        "b_dec": torch.randn(6, generator=gen),
        "threshold": torch.rand(10, generator=gen),
    }
    npz_dir = tmp_path / "gemma-scope-2b-pt-res" / "layer_3" / "width_16k" / "average_l0_82"
    npz_dir.mkdir(parents=True)
    np.savez(npz_dir / "params.npz", **{k: v.numpy() for k, v in t.items()})
    from safetensors.torch import save_file

    lens = tmp_path / "lens"
    lens.mkdir()
    save_file(t, str(lens / "sae_weights.safetensors"))
    cfg = {"architecture": "jumprelu", "d_in": 6, "d_sae": 10, "hook_name": "blocks.3.hook_resid_post"}
    (lens / "cfg.json").write_text(json.dumps({**cfg, "apply_b_dec_to_input": False}))
    a, b = load_sae(npz_dir), load_sae(lens)
    assert a.hook_name == b.hook_name == "blocks.3.hook_resid_post"
    for name in ("W_enc", "W_dec", "b_enc", "b_dec", "threshold"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    x = torch.randn(5, 6, generator=gen)
    assert torch.equal(a.encode(x), b.encode(x)) and a.digest() == b.digest()


def test_object_arrays_in_npz_are_refused(tmp_path):
    import numpy as np

    from valuespectrum.sae import load_sae

    d = tmp_path / "layer_0"
    d.mkdir()
    np.savez(d / "params.npz", W_enc=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ConfigError, match="refused"):
        load_sae(d / "params.npz")


def test_sparsify_layout_transposes_the_encoder_and_subtracts_b_dec(tmp_path):
    from safetensors.torch import save_file

    from valuespectrum.sae import load_sae

    folder = tmp_path / "sae-run" / "layers.2"
    folder.mkdir(parents=True)
    w = torch.tensor(
        [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    )  # [d_sae 4, d_in 3]
    save_file(
        {
            "encoder.weight": w,
            "encoder.bias": torch.zeros(4),
            "W_dec": w.clone(),
            "b_dec": torch.tensor([1.0, 0.0, 0.0]),
        },
        str(folder / "sae.safetensors"),
    )
    (folder / "cfg.json").write_text(json.dumps({"k": 2, "expansion_factor": 1, "normalize_decoder": True}))
    sae = load_sae(folder)
    assert sae.architecture == "topk" and sae.k == 2 and sae.hook_name == "blocks.2.hook_resid_post"
    # x - b_dec = (2, 1, 3): pre = (2, 2, 3, 3) -> top 2 keep features 2 and 3
    f = sae.encode(torch.tensor([3.0, 1.0, 3.0]))
    assert torch.equal(f, torch.tensor([0.0, 0.0, 3.0, 3.0]))


def test_pickles_are_refused(tmp_path):
    from valuespectrum.sae import load_sae

    (tmp_path / "ae.pt").write_bytes(b"not read")
    with pytest.raises(ConfigError, match="pickle"):
        load_sae(tmp_path / "ae.pt")
    with pytest.raises(ConfigError, match="pickle"):
        load_sae(tmp_path)


def test_writer_round_trips_every_architecture(tmp_path):
    from valuespectrum.sae import SparseAutoencoder, load_sae, save_saelens

    gen = torch.Generator().manual_seed(1)

    def r(*s):
        return torch.randn(*s, generator=gen)

    cases = [
        SparseAutoencoder("relu", r(5, 8), r(8), r(8, 5), r(5), apply_b_dec_to_input=True),
        SparseAutoencoder("jumprelu", r(5, 8), r(8), r(8, 5), r(5), threshold=r(8).abs()),
        SparseAutoencoder("topk", r(5, 8), r(8), r(8, 5), r(5), k=3, normalize="scale", scale=0.5),
        SparseAutoencoder("gated", r(5, 8), r(8), r(8, 5), r(5), r_mag=r(8), b_mag=r(8), center=True),
    ]
    x = r(7, 5)
    for i, sae in enumerate(cases):
        back = load_sae(save_saelens(sae, tmp_path / f"s{i}"))
        assert back.architecture == sae.architecture and back.digest() == sae.digest()
        assert torch.allclose(back.reconstruct(x), sae.reconstruct(x))


def test_bad_config_names_the_field(tmp_path):
    from valuespectrum.sae import load_sae

    with pytest.raises(ConfigError, match="architecture"):
        load_sae(_saelens(tmp_path / "a", arch="mystery"))
    with pytest.raises(ConfigError, match="norm_scaling_factor"):
        load_sae(_saelens(tmp_path / "b", normalize_activations="expected_average_only_in"))
    with pytest.raises(ConfigError, match="attention-head"):
        load_sae(_saelens(tmp_path / "c", hook_name="blocks.1.attn.hook_z"))
