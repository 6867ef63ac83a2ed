"""The docs' inference parameters (seed 003's Python sample), shared by the tests."""

PARAMS = {
    "prompt": "TOK TOK",
    "steps": 25,
    "seed": 6652105,
    "scheduler": "simple",
    "sampler_name": "euler",
    "aspect_ratio": "1:1",
    "lora_strength": 1,
    "hardware": "cost",
}
