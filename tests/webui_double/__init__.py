"""A contract double of the AUTOMATIC1111 webui v1.10.1 ``modules`` package.

It follows the real signatures and behaviours our bridge relies on (docs/webui-contract.md; each
file cites the v1.10.1 source lines it mirrors) and is stricter where that catches our bugs: the
queue lock raises on re-entry instead of deadlocking. ``install()`` puts it on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def install() -> None:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))


def uninstall() -> None:
    if str(HERE) in sys.path:
        sys.path.remove(str(HERE))
    for name in list(sys.modules):
        if name == "modules" or name.startswith(("modules.", "lib_textinv.webui.")) or name == "launch":
            del sys.modules[name]
    # package attributes would keep serving a bridge bound to a previous double
    pkg = sys.modules.get("lib_textinv.webui")
    if pkg is not None:
        for attr in [a for a in vars(pkg) if not a.startswith("__")]:
            delattr(pkg, attr)
