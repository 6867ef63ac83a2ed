"""Dataset intake: fetch a training ZIP (mock storage or a public URL) and inspect it."""

from mock_server.datasets.inspect import DatasetProblem, DatasetRules, inspect_zip

__all__ = ["DatasetProblem", "DatasetRules", "inspect_zip"]
