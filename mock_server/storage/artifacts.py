"""Real trained-model files: a small LoRA-shaped .safetensors per job, the same bytes
every time for the same job (seeded by its id)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

#: Small on purpose: a real Flux LoRA holds ~500 tensors of width 3072; the mock keeps the
#: names and the rank, not the size, so artifacts stay a few KB.
LAYERS = (
    "transformer.single_transformer_blocks.0.attn.to_q",
    "transformer.single_transformer_blocks.0.attn.to_k",
    "transformer.single_transformer_blocks.0.attn.to_v",
    "transformer.transformer_blocks.0.attn.to_out.0",
)
WIDTH = 64


def lora_safetensors(job_id: str, rank: int, metadata: Mapping[str, object]) -> bytes:
    """lora_A (rank x WIDTH) and lora_B (WIDTH x rank) per layer, plus string metadata."""
    # imported here, not at the top: numpy is slow to import, every start would pay for it,
    # and only a safetensors download needs it
    import numpy as np
    from safetensors.numpy import save

    seed = int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    tensors = {}
    for layer in LAYERS:
        tensors[f"{layer}.lora_A.weight"] = rng.standard_normal((rank, WIDTH), dtype=np.float32)
        tensors[f"{layer}.lora_B.weight"] = np.zeros((WIDTH, rank), dtype=np.float32)
    return save(tensors, metadata={k: str(v) for k, v in metadata.items() if v is not None})
