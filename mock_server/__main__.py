"""`python -m mock_server` is the `tunemock` command."""

from mock_server.cli import main

main()
