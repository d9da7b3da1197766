"""A SAELens SAE object as supviz sees it, SAELens not imported (tests of ``supviz.sae.from_saelens`` / ``as_sae``)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "sae" / "fixtures" / "saelens"


class SAELensLike:
    """What supviz reads of a SAELens SAE object, built from one of SAELens' own folders (the fixtures):
    ``cfg.to_dict()`` (the dict its ``save_model`` writes as cfg.json) and ``state_dict()`` (torch tensors,
    BatchTopK's ``topk_threshold`` buffer in float64, as SAELens keeps it)."""

    def __init__(self, folder: str | Path) -> None:
        import torch
        from safetensors.torch import load_file as load_torch

        folder = Path(folder)
        cfg = json.loads((folder / "cfg.json").read_text())
        self.cfg = type("Cfg", (), {"to_dict": lambda _self: dict(cfg)})()
        self._state = {
            k: v.to(torch.float64) if k == "topk_threshold" else v
            for k, v in load_torch(str(folder / "sae_weights.safetensors")).items()
        }

    def state_dict(self) -> dict:
        return dict(self._state)
