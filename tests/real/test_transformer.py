"""Hidden states of the shipped all-MiniLM-L6-v2 (supviz.real.transformer): known identities, offline."""

from __future__ import annotations

import numpy as np
import pytest

from supviz.errors import SupvizError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers", reason="the text extra (pip install 'supviz[text]'); make venv installs it")

SENTENCES = [
    "The chef cooked the soup beautifully.",
    "Those players will not win the final badly.",
    "A short one.",
    "Our researchers analyze the samples perfectly, and the results are in.",
    "Hi",
]


@pytest.fixture(scope="module")
def encoder():
    from supviz.real.transformer import load_encoder

    return load_encoder("minilm", device="cpu", progress=False)


@pytest.fixture(scope="module")
def reference(encoder):
    """The model's own outputs for SENTENCES, padded in one batch (independent of supviz's batching)."""
    batch = encoder.tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = encoder.model(**batch, output_hidden_states=True)
    return batch, out


def test_the_shipped_model_is_minilm_offline(encoder):
    from supviz.real.transformer import minilm_path

    assert (minilm_path() / "model.safetensors").is_file()
    info = encoder.info
    assert (info["architecture"], info["layers"], info["hidden_size"]) == ("BertModel", 6, 384)
    assert info["parameters"] == sum(p.numel() for p in encoder.model.parameters())  # 22.7M: the model card's 22.6M


def test_layer_0_is_the_embedding_sum_after_layer_norm(encoder, reference):
    """hidden_states[0] = LayerNorm(word[ids] + position[0..T) + token_type[type ids]) (BERT, Devlin et al. 2019)."""
    batch, out = reference
    emb = encoder.model.embeddings
    ids, types = batch["input_ids"], batch["token_type_ids"]
    pos = torch.arange(ids.shape[1])[None, :]
    with torch.inference_mode():
        want = emb.LayerNorm(emb.word_embeddings(ids) + emb.position_embeddings(pos) + emb.token_type_embeddings(types))
    torch.testing.assert_close(out.hidden_states[0], want, rtol=0, atol=1e-6)  # float32, same ops: rounding only


def test_pooled_is_mean_pooling_then_l2_norm(encoder, reference):
    """sentence-transformers' documented embedding of this model, computed here from the model's outputs."""
    from supviz.real.transformer import encode

    batch, out = reference
    hs = encode(SENTENCES, encoder, batch_size=2, tokens=True, progress=False)  # other batches, other padding
    assert hs.pooled.shape == (7, len(SENTENCES), 384) and hs.pooled.dtype == np.float32
    mask = batch["attention_mask"].numpy().astype(np.float64)
    for layer in (0, 3, 6):
        H = out.hidden_states[layer].numpy().astype(np.float64)  # (B, T, d)
        mean = (H * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        want = mean / np.linalg.norm(mean, axis=1, keepdims=True)
        np.testing.assert_allclose(hs.pooled[layer], want, rtol=0, atol=1e-5)
    # the last layer's is the model's sentence embedding (last_hidden_state is hidden_states[-1])
    np.testing.assert_array_equal(out.last_hidden_state.numpy(), out.hidden_states[-1].numpy())
    # per token: every unmasked token once, in sentence order, equal to the model's state
    assert len(hs.token_sentence) == int(mask.sum()) and (np.diff(hs.token_sentence) >= 0).all()
    first = hs.token_sentence == 0
    n0 = int(mask[0].sum())
    np.testing.assert_allclose(hs.tokens[6][first], out.hidden_states[6][0, :n0].numpy(), rtol=0, atol=1e-5)
    assert hs.token_ids[first].tolist() == batch["input_ids"][0, :n0].tolist()


def test_bad_texts_are_refused(encoder):
    from supviz.real.transformer import encode

    with pytest.raises(SupvizError, match="non-empty list"):
        encode([], encoder)
    with pytest.raises(SupvizError, match="entry 1 is ' '"):
        encode(["fine", " "], encoder)


def test_not_a_model_and_no_tokenizer_are_refused(tmp_path):
    from supviz.real.transformer import minilm_path, resolve_model

    with pytest.raises(SupvizError, match="no config.json"):
        resolve_model(tmp_path)
    shipped = minilm_path()
    (tmp_path / "config.json").write_bytes((shipped / "config.json").read_bytes())
    (tmp_path / "model.safetensors").symlink_to(shipped / "model.safetensors")
    with pytest.raises(SupvizError, match="has no tokenizer"):
        resolve_model(tmp_path)
    with pytest.raises(SupvizError, match="must be 'minilm', an existing model folder or a hub id"):
        resolve_model("no such thing")
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == ("sentence-transformers/all-MiniLM-L6-v2", False)
