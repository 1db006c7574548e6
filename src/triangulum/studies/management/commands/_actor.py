"""Who the audit trail names when a change comes from the command line."""

import getpass


def cli_actor(command: str) -> str:
    try:
        who = getpass.getuser()
    except (OSError, KeyError):
        who = "unknown"
    return f"triangulum {command} (as {who})"
