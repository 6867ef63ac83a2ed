"""Real trained-model files: a small, valid .safetensors per job, the same bytes every time."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
from safetensors.numpy import save


def lora_safetensors(job_id: str, metadata: Mapping[str, str]) -> bytes:
    """A LoRA-shaped safetensors file (rank-4 A/B pairs for two layers), seeded by job id."""
    seed = int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    rank, width = 4, 64
    tensors = {}
    for layer in (
        "transformer.single_transformer_blocks.0.attn.to_q",
        "transformer.single_transformer_blocks.0.attn.to_k",
    ):
        tensors[f"{layer}.lora_A.weight"] = rng.standard_normal((rank, width), dtype=np.float32)
        tensors[f"{layer}.lora_B.weight"] = np.zeros((width, rank), dtype=np.float32)
    return save(tensors, metadata={k: str(v) for k, v in metadata.items()})
