"""The HTTP edge of the mock: routing from the spec, vendor-format answers."""
