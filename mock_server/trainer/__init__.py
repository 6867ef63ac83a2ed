"""The second provider's multipart LoRA trainer (seed 004), served under /lora-trainer."""
