pytest_plugins = [
    "tests.fixtures.offline",
    "tests.fixtures.spec",
    "tests.fixtures.server",
    "tests.fixtures.static",
    "tests.fixtures.postgres",
]
