"""``python -m client.cli``: the client's commands without the server's."""

from client.cli import main

main()
