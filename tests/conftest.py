pytest_plugins = ["tests.fixtures.spec", "tests.fixtures.server"]
