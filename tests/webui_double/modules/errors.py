"""modules/errors.py — ``report(message, *, exc_info=False)`` (:38-49): each line of the message on
stderr behind "*** ", then, with ``exc_info``, the traceback of the exception being handled,
indented, and a "---" line. ``record_exception`` (:24-35) keeps the last five exceptions."""

import sys
import textwrap
import traceback

exception_records = []  # :6


def record_exception():  # :24-35
    _, e, tb = sys.exc_info()
    if e is None:
        return
    if exception_records and exception_records[-1] == e:
        return
    exception_records.append({"exception": str(e), "traceback": traceback.format_tb(tb)})
    if len(exception_records) > 5:
        exception_records.pop(0)


def report(message: str, *, exc_info: bool = False) -> None:  # :38-49
    record_exception()
    for line in message.splitlines():
        print("***", line, file=sys.stderr)
    if exc_info:
        print(textwrap.indent(traceback.format_exc(), "    "), file=sys.stderr)
        print("---", file=sys.stderr)
