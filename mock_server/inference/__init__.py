"""Serverless inference (seed 003): v1 sync and the v2 queue, on fine-tuned models."""
