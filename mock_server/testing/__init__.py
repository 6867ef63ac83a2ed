"""Testing helpers users get with tunemock: the pytest plugin (entry point `pytest11`),
a live server runner, a webhook receiver, and the SDK router."""
