"""modules/launch_utils.py — ``git_tag()`` returns e.g. "v1.10.1"."""

TAG = "v1.10.1"


def git_tag():
    return TAG
