"""The dashboard at /_mock/ui: pages over the admin API's domain services, live over
Server-Sent Events, every asset served by the mock itself (no CDN: it works offline)."""
