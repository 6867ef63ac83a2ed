"""The Segmind fine-tune API (seeds 000-002): domain, rendering and routes."""
