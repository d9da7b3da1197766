"""``batchtopk``: Bussmann, Leask & Nanda (2024), "BatchTopK sparse autoencoders".

While training, a batch of B samples keeps its ``k * B`` largest activations ``ReLU(pre)``
over all samples and latents together (so a sample may use more or fewer than k latents); AuxK,
the unit-norm decoder and the encoder initialisation are TopK's (:mod:`.topk`). Inference
replaces the batch dependence with one threshold: ``f = ReLU(pre) * 1[pre > theta]`` where
``theta`` estimates the smallest kept activation, here a moving average over training batches
(rate ``threshold_lr``, as in SAELens). Saved in SAELens' layout as a ``jumprelu`` SAE with
``theta`` as every latent's threshold, the form SAELens itself saves it in.
"""

from __future__ import annotations

from supviz.sae.architectures.base import fused
from supviz.sae.architectures.topk import TopK


class BatchTopK(TopK):
    """BatchTopK with AuxK and an inference threshold (Bussmann et al. 2024)."""

    name = "batchtopk"
    saelens_architecture = "jumprelu"
    inference_activation = "jumprelu"

    def init_state(self, k, device):
        import torch

        return {"threshold": torch.zeros(k, dtype=torch.float64, device=device)}

    def activation_and_terms(self, pre, x, P, S, ctx):
        import torch

        a = pre.relu()
        k, B, s = a.shape
        keep = self.config.k * B
        if keep >= B * s:
            return a, {}
        flat = a.detach().reshape(k, B * s)
        if fused(flat):
            import numpy as np

            from supviz.sae._kernels import kth_largest_flat

            out = np.empty(k, dtype=np.float32)
            kth_largest_flat(flat.contiguous().numpy(), int(keep), out)
            kth = torch.from_numpy(out)
        else:
            kth = torch.kthvalue(flat, B * s - keep + 1, dim=1).values  # (k,): the keep-th largest
        return torch.where(a >= kth[:, None, None], a, 0.0), {}

    def after_step(self, f, P, S):
        import torch

        lr = self.config.threshold_lr
        positive = f > 0
        smallest = torch.where(positive, f, torch.full_like(f, float("inf"))).amin(dim=(1, 2))  # (k,)
        has = torch.isfinite(smallest)
        theta = S["threshold"]
        S["threshold"] = torch.where(has, (1.0 - lr) * theta + lr * smallest.to(theta.dtype), theta)

    def export(self, P, S, index):
        import numpy as np

        theta = float(S["threshold"][index])
        return {"activation": "jumprelu", "k": None, "threshold": np.full(self.d_sae, theta, dtype=np.float32)}
