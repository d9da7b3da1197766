"""A trained (or loaded) sparse autoencoder, :class:`SAE`, and batched encoding, :func:`encode`.

An :class:`SAE` holds numpy weights in SAELens' names and shapes (``W_enc [d_in, d_sae]``,
``b_enc [d_sae]``, ``W_dec [d_sae, d_in]``, ``b_dec [d_in]``, ``threshold [d_sae]``) and one of
three inference activations:

* ``"relu"``: ``f = ReLU(pre)`` (relu_l1, relu_l1_decnorm; SAELens ``standard``);
* ``"topk"``: ``f = ReLU(pre) * 1[pre >= k-th largest pre of the sample]`` (SAELens ``topk``);
* ``"jumprelu"``: ``f = ReLU(pre) * 1[pre > threshold]`` (jumprelu, and batchtopk with one
  threshold for every latent; SAELens ``jumprelu``);

with ``pre = (x - b_dec * apply_b_dec_to_input) W_enc + b_enc`` and ``x_hat = f W_dec + b_dec``.
Encoding runs in torch (float32), several SAEs of one shape in one batched product.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from supviz.core.validation import check_array, check_choice
from supviz.errors import SupvizError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from supviz.sae.config import SAEConfig

ACTIVATIONS = ("relu", "topk", "jumprelu")
#: Encoding works in blocks of about this many floats of ``[SAEs, rows, d_sae]`` (64 MB in float32).
_BLOCK = 1 << 24


@dataclass(eq=False)
class SAE:
    """One sparse autoencoder.

    Attributes
    ----------
    W_enc : np.ndarray [d_in, d_sae] float32
    b_enc : np.ndarray [d_sae] float32
    W_dec : np.ndarray [d_sae, d_in] float32
        Row j is latent j's decoder direction (what the recovery scores compare).
    b_dec : np.ndarray [d_in] float32
    activation : {"relu", "topk", "jumprelu"}
    k : int or None
        Latents per sample of ``"topk"``.
    threshold : np.ndarray [d_sae] float32 or None
        Per-latent threshold of ``"jumprelu"``.
    apply_b_dec_to_input : bool
    architecture : str
        The method that trained it (:data:`supviz.sae.config.ARCHITECTURES`), or SAELens'
        architecture name for an SAE trained elsewhere.
    config : SAEConfig or None
        The training config (None for an SAE trained elsewhere).
    label : str
    info : dict
        Seed, input scale, effective batch size, source, notes.
    decoder_norms : np.ndarray [d_sae] float32 or None
        Where SAELens' ``rescale_acts_by_decoder_norm`` was folded into the weights
        (:func:`supviz.sae.storage.fold_decoder_norms`): the row norms ``n_j`` of SAELens' ``W_dec``, which the
        fold divided out of :attr:`W_dec` (so ``codes @ W_dec + b_dec`` is SAELens' reconstruction and the
        codes are SAELens' codes); :attr:`saelens_W_dec` is SAELens' ``W_dec`` as its file holds it. None
        for an SAE without the fold.
    """

    W_enc: np.ndarray
    b_enc: np.ndarray
    W_dec: np.ndarray
    b_dec: np.ndarray
    activation: str = "relu"
    k: int | None = None
    threshold: np.ndarray | None = None
    apply_b_dec_to_input: bool = True
    architecture: str = "relu_l1"
    config: "SAEConfig | None" = None
    label: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    decoder_norms: np.ndarray | None = None

    def __post_init__(self) -> None:
        from supviz.sae.storage import check_weight_shapes

        self.W_enc = _weights("W_enc", self.W_enc, 2)
        self.W_dec = _weights("W_dec", self.W_dec, 2)
        self.b_enc = _weights("b_enc", self.b_enc, 1)
        self.b_dec = _weights("b_dec", self.b_dec, 1)
        check_weight_shapes(self.W_enc, self.b_enc, self.W_dec, self.b_dec)
        d_sae = self.W_enc.shape[1]
        if self.decoder_norms is not None:
            self.decoder_norms = _weights("decoder_norms", self.decoder_norms, 1)
            if self.decoder_norms.shape != (d_sae,) or not (self.decoder_norms > 0).all():
                raise SupvizError(
                    f"`decoder_norms` must be {d_sae} positive numbers (one per latent); got shape "
                    f"{list(self.decoder_norms.shape)}, min {float(np.min(self.decoder_norms, initial=np.inf)):.3g}."
                )
        self.activation = check_choice("activation", self.activation, ACTIVATIONS)
        if self.activation == "topk":
            if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or not 1 <= int(self.k):
                raise SupvizError(f"a topk SAE needs `k`, an int >= 1; got {self.k!r}.")
            self.k = int(self.k)
            if self.k > d_sae:  # as training refuses it: "top k of fewer than k latents" is no SAE
                raise SupvizError(f"a topk SAE's `k` must be <= d_sae; got k={self.k}, d_sae={d_sae}.")
        if self.activation == "jumprelu":
            if self.threshold is None:
                raise SupvizError("a jumprelu SAE needs `threshold` [d_sae]; got none.")
            self.threshold = _weights("threshold", self.threshold, 1)
            if self.threshold.shape != (d_sae,):
                raise SupvizError(f"`threshold` must have shape [{d_sae}]; got {list(self.threshold.shape)}.")

    @property
    def saelens_W_dec(self) -> np.ndarray:
        """``W_dec [d_sae, d_in]`` float32 as SAELens holds it: :attr:`W_dec` times :attr:`decoder_norms` row by
        row where a ``rescale_acts_by_decoder_norm`` fold divided them out (float32 rounding apart), else
        :attr:`W_dec` itself. What :func:`supviz.sae.picture_decoder` pictures."""
        if self.decoder_norms is None:
            return self.W_dec
        return (self.W_dec.astype(np.float64) * self.decoder_norms.astype(np.float64)[:, None]).astype(np.float32)

    @property
    def d_in(self) -> int:
        """Input dimensions."""
        return int(self.W_enc.shape[0])

    @property
    def d_sae(self) -> int:
        """Number of latents."""
        return int(self.W_enc.shape[1])

    def __repr__(self) -> str:
        extra = f", k={self.k}" if self.activation == "topk" else ""
        label = f", label={self.label!r}" if self.label else ""
        return (
            f"SAE({self.architecture}, d_in={self.d_in}, d_sae={self.d_sae}, "
            f"activation={self.activation!r}{extra}{label})"
        )

    def encode(self, X: Any, *, device: str = "cpu", name: str = "X") -> np.ndarray:
        """Codes ``f [N, d_sae]`` float32 of inputs ``X [N, d_in]`` (see the module docstring); ``name`` names
        ``X`` in error messages (a caller's own argument name, e.g. ``activations``)."""
        return encode([self], [X], device=device, names=[name])[0]

    def decode(self, codes: Any) -> np.ndarray:
        """``codes W_dec + b_dec`` ``[N, d_in]`` float32."""
        F = check_array("codes", codes, ndim=2, dtype=np.float32)
        if F.shape[1] != self.d_sae:
            raise SupvizError(f"`codes` must have {self.d_sae} columns (the latents); got shape {F.shape}.")
        return (F @ self.W_dec + self.b_dec).astype(np.float32)

    def reconstruct(self, X: Any, *, device: str = "cpu") -> np.ndarray:
        """``decode(encode(X))`` ``[N, d_in]``."""
        return self.decode(self.encode(X, device=device))

    def save(self, folder: str | os.PathLike[str]) -> "os.PathLike[str]":
        """Write this SAE to ``folder`` in SAELens' layout (see :func:`supviz.sae.save`)."""
        return save(self, folder)


def encode(
    saes: Sequence[SAE],
    inputs: Any,
    *,
    device: str = "cpu",
    dtype: Any = np.float32,
    names: Sequence[str] | None = None,
) -> list[np.ndarray]:
    """Encode inputs with several SAEs; SAEs of one shape share one batched product.

    Parameters
    ----------
    saes : sequence of SAE
    inputs : array [N, d] (the same inputs for every SAE) or a sequence of arrays ``[N_i, d_i]``
        (one per SAE; numpy or torch).
    device : str
        Torch device of the computation (:func:`supviz.core.validation.check_device`).
    dtype : numpy float dtype, default float32
        Precision of the computation and the result (float32 or float64).
    names : sequence of str, optional
        The inputs' names in error messages (one per array; default ``inputs`` / ``inputs[i]``).

    Returns
    -------
    list of np.ndarray
        ``f_i [N_i, d_sae_i]`` per SAE.
    """
    import torch

    from supviz.core.validation import check_device

    saes = list(saes)
    device = check_device(device)
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise SupvizError(f"`dtype` must be float32 or float64; got {dt}.")
    if not saes:
        return []
    if _is_one_array(inputs):
        one = "inputs" if names is None else names[0]
        arrays = [_input(one, inputs, dt)] * len(saes)
        labels = [one] * len(saes)
    else:
        labels = [f"inputs[{i}]" for i in range(len(inputs))] if names is None else list(names)
        arrays = [_input(label, x, dt) for label, x in zip(labels, inputs)]
        if len(arrays) != len(saes):
            raise SupvizError(f"`inputs` must hold one array per SAE ({len(saes)}); got {len(arrays)}.")
    for sae, x, label in zip(saes, arrays, labels):
        if x.shape[1] != sae.d_in:
            raise SupvizError(f"`{label}` must have {sae.d_in} columns (the SAE's d_in); got shape {list(x.shape)}.")
    out: list[np.ndarray] = [np.empty(0)] * len(saes)
    groups: dict[tuple, list[int]] = {}
    for i, (sae, x) in enumerate(zip(saes, arrays)):
        key = (sae.d_in, sae.d_sae, sae.activation, sae.k, sae.apply_b_dec_to_input, x.shape[0])
        groups.setdefault(key, []).append(i)
    with torch.no_grad():
        for (_d, s, activation, k, apply_b, n), idx in groups.items():
            # bound the [g, rows, d_sae] intermediates to ~2^24 floats: chunks of SAEs, then of rows
            # (rows depends on the SAE's shape alone, so an SAE encoded alone or beside others makes the
            # same products: the same bits, whatever the BLAS)
            per = max(1, min(len(idx), _BLOCK // max(1, n * s)))
            rows = max(1, min(n, _BLOCK // max(1, s)))
            for c in range(0, len(idx), per):
                part = idx[c : c + per]
                W_enc = torch.from_numpy(np.stack([saes[i].W_enc for i in part]).astype(dt)).to(device)
                b_enc = torch.from_numpy(np.stack([saes[i].b_enc for i in part]).astype(dt)).to(device)
                b_dec = torch.from_numpy(np.stack([saes[i].b_dec for i in part]).astype(dt)).to(device)
                thr = None
                if activation == "jumprelu":
                    thr = torch.from_numpy(np.stack([saes[i].threshold for i in part]).astype(dt)).to(device)
                res = [np.empty((n, s), dtype=dt) for _ in part]
                for r in range(0, n, rows):
                    X = torch.from_numpy(np.stack([arrays[i][r : r + rows] for i in part])).to(device)  # (g, rows, d)
                    f = encode_tensors(
                        X, W_enc, b_enc, b_dec, activation=activation, k=k, threshold=thr, apply_b_dec_to_input=apply_b
                    )
                    for j in range(len(part)):
                        res[j][r : r + rows] = f[j].cpu().numpy()
                for j, i in enumerate(part):
                    out[i] = res[j]
    return out


def encode_tensors(
    X: "torch.Tensor",
    W_enc: "torch.Tensor",
    b_enc: "torch.Tensor",
    b_dec: "torch.Tensor",
    *,
    activation: str,
    k: int | None = None,
    threshold: "torch.Tensor | None" = None,
    apply_b_dec_to_input: bool = True,
) -> "torch.Tensor":
    """The inference encoder on stacked tensors: ``X [g, N, d]`` -> ``f [g, N, d_sae]`` (one product call
    per SAE, :func:`supviz.runtime.products.bmm`: an SAE's codes do not depend on the others)."""
    import torch

    from supviz.runtime.products import bmm
    from supviz.sae.architectures.base import encoder_bias, topk_mask

    pre = bmm(X, W_enc) + encoder_bias(W_enc, b_enc, b_dec, apply_b_dec_to_input)[:, None, :]
    if activation == "relu":
        return pre.relu()
    if activation == "topk":
        return torch.where(topk_mask(pre, int(k)), pre.relu(), 0.0)  # type: ignore[arg-type]
    return torch.where(pre > threshold[:, None, :], pre.relu(), 0.0)  # type: ignore[index]


@dataclass(eq=False)
class TrainedSAEs:
    """The result of one training job (:func:`supviz.sae.train_saes`).

    Attributes
    ----------
    saes : list[SAE]
        One per job, in the jobs' order; weights folded back to the inputs' scale.
    losses : np.ndarray [instances, n_logged]
        Per-instance total training loss (in the normalised units training used); point j is the
        mean over the steps up to ``loss_steps[j]``; NaN past an instance's last step.
    terms : dict[str, np.ndarray]
        The same for each term: ``"mse"``, ``"sparsity"`` (L1 / L0 penalty), ``"auxk"``.
    loss_steps : np.ndarray [n_logged] int
    info : dict
        Wall time, ms per step, threads, device, grouping.
    """

    saes: list[SAE]
    losses: np.ndarray
    terms: dict[str, np.ndarray]
    loss_steps: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.saes)

    def __getitem__(self, i: int) -> SAE:
        return self.saes[i]

    def __repr__(self) -> str:
        archs = sorted({s.architecture for s in self.saes})
        return (
            f"TrainedSAEs({len(self)} SAE(s), architectures={archs}, "
            f"wall_seconds={self.info.get('wall_seconds')}, device={self.info.get('device')!r})"
        )


def _weights(name: str, value: Any, ndim: int) -> np.ndarray:
    from supviz.sae import _float32

    return _float32.weights(name, value, ndim=ndim)


def _input(name: str, value: Any, dtype: Any = np.float32) -> np.ndarray:
    from supviz.sae import _float32

    if np.dtype(dtype) == np.dtype(np.float32):
        return _float32.inputs(name, value)  # a new array
    return np.array(_float32.as_float64(name, value, ndim=2), dtype=dtype, order="C", copy=True)


def _is_one_array(inputs: Any) -> bool:
    if hasattr(inputs, "detach") or isinstance(inputs, np.ndarray):
        return True
    return not isinstance(inputs, (list, tuple))


def save(sae: SAE, folder: str | os.PathLike[str]) -> Path:
    """Write ``sae`` to ``folder`` in SAELens' pretrained-SAE layout (``cfg.json`` +
    ``sae_weights.safetensors``, :mod:`supviz.sae.storage`) atomically; return the path.

    An existing folder is replaced only once the new one is complete.
    """
    from supviz.sae.storage import write_folder

    if not isinstance(sae, SAE):
        raise SupvizError(f"`sae` must be an SAE; got {type(sae).__name__}.")
    return write_folder(sae, folder)


def load(folder: str | os.PathLike[str]) -> SAE:
    """An SAE from a folder in SAELens' layout, written by supviz or by SAELens
    (:func:`supviz.sae.storage.read_folder` says what is supported).

    Raises
    ------
    SupvizError
        Whatever :func:`~supviz.sae.storage.read_folder` refuses (a missing or malformed folder, an
        unsupported architecture), in one line.
    """
    from supviz.sae.storage import read_folder

    return SAE(**read_folder(folder))


def from_saelens(sae: Any) -> SAE:
    """An SAE from a SAELens SAE object (``sae_lens.SAE``, or a training SAE such as
    ``TopKTrainingSAE``), read as its folder would be (:func:`supviz.sae.storage.sae_fields`: every
    config key honoured or refused by name, ``rescale_acts_by_decoder_norm`` folded, a BatchTopK
    training SAE as its inference form).

    SAELens is not imported: any object with ``cfg.to_dict()`` (the dict ``save_model`` writes as
    ``cfg.json``) and ``state_dict()`` (tensors, cast to float32 on the CPU) works.

    Raises
    ------
    SupvizError
        An object without ``cfg.to_dict`` / ``state_dict``; one whose ``cfg.to_dict()`` is no dict or whose
        ``state_dict()`` is no dict of tensors or numpy arrays (sparse, meta and complex tensors refused by
        name), or either of which raises; whatever the folder reader refuses.
    """
    from supviz.sae.storage import check_finite_weights, sae_fields

    cfg = getattr(sae, "cfg", None)
    if not callable(getattr(cfg, "to_dict", None)) or not callable(getattr(sae, "state_dict", None)):
        raise SupvizError(
            f"`sae` must be a SAELens SAE (an object with cfg.to_dict() and state_dict()); got {type(sae).__name__}."
        )
    where = f"SAELens {type(sae).__name__}"
    cfg_dict = _call(sae.cfg.to_dict, f"{where}: cfg.to_dict()")
    if not isinstance(cfg_dict, Mapping):
        raise SupvizError(f"{where}: cfg.to_dict() must return a dict (the cfg.json); got {type(cfg_dict).__name__}.")
    cfg_dict = dict(cfg_dict)
    state = _call(sae.state_dict, f"{where}: state_dict()")
    if not isinstance(state, Mapping):
        raise SupvizError(f"{where}: state_dict() must return a dict of tensors; got {type(state).__name__}.")
    W = {str(key): _state_array(f"{where}: state_dict()[{key!r}]", value) for key, value in state.items()}
    check_finite_weights(W, where)
    return SAE(**sae_fields(cfg_dict, W, cfg_name=f"{where} cfg", weights_name=f"{where} state_dict", source=where))


def _call(method: Any, what: str) -> Any:
    """``method()``, any exception turned into one SupvizError line naming ``what``."""
    try:
        return method()
    except Exception as exc:  # noqa: BLE001 - the user's object failed; say where, in one line
        raise SupvizError(f"{what} raised {type(exc).__name__}: {' '.join(str(exc).split())}") from None


def _state_array(what: str, value: Any) -> np.ndarray:
    """One ``state_dict`` entry (a dense real torch tensor on any device, or a numpy array) as float32 numpy."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise SupvizError(f"{what} must be a real array; got dtype {value.dtype}.")
        return np.array(value, dtype=np.float32)
    import torch

    if not isinstance(value, torch.Tensor):
        raise SupvizError(f"{what} must be a torch tensor or numpy array; got {type(value).__name__}.")
    if value.is_meta:
        raise SupvizError(f"{what} is a meta tensor (no values: the SAE was never materialised).")
    if value.layout != torch.strided:
        raise SupvizError(f"{what} is a {value.layout} tensor; supviz reads dense weights (call .to_dense()).")
    if value.is_complex():
        raise SupvizError(f"{what} is complex ({value.dtype}); SAE weights are real.")
    return value.detach().to(device="cpu", dtype=torch.float32).numpy().copy()


def as_sae(value: Any, name: str = "sae") -> SAE:
    """The one coercion of "an SAE" everywhere supviz takes one (scores, pictures).

    Parameters
    ----------
    value : SAE, SAELens SAE object, str or os.PathLike
        An :class:`SAE` (returned as it is); a SAELens SAE object, duck-typed (``cfg.to_dict()`` and
        ``state_dict()``: :func:`from_saelens`, SAELens is never imported); or the path of a folder in
        SAELens' layout (:func:`load`).
    name : str
        The argument's name in the error message.

    Raises
    ------
    SupvizError
        Anything else, naming its type; or a path that is not a readable SAE folder, naming the path and
        what is wrong with it (:func:`load`).
    """
    if isinstance(value, SAE):
        return value
    if isinstance(value, (str, os.PathLike)):
        return load(value)
    if callable(getattr(getattr(value, "cfg", None), "to_dict", None)) and callable(getattr(value, "state_dict", None)):
        return from_saelens(value)
    raise SupvizError(
        f"`{name}` must be an SAE (supviz or SAELens) or the path of an SAE folder; got {type(value).__name__}."
    )


def load_many(folder: str | os.PathLike[str]) -> list[SAE]:
    """Every SAE folder directly inside ``folder`` (sorted by name), or ``folder`` itself if it is one."""
    from supviz.sae.storage import sae_folders

    return [load(p) for p in sae_folders(folder)]
