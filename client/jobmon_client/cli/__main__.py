"""``python -m jobmon_client.cli``: the ``jobmon`` command."""

from jobmon_client.cli import main

main()
