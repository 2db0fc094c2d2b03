"""Keep the webui's saved UI defaults (ui-config.json) from mixing up our components.

The webui saves and re-applies the value of every labelled input of a tab under the key
``<tab id>/<label>/<field>`` (modules/ui_loadsave.py:36-75, 127-139): the nesting inside the tab is
not part of the key. Two of our inputs with the same label ("Batch size" in Captions and in
Train, "Width" in Crop and in Compare…) share one key, so the first one's default is forced onto
the other at start-up (Train's batch size came up as Captions' 8). Such components opt out with
the webui's own ``do_not_save_to_config`` flag, and so do read-only outputs and inputs whose
default is worked out at each start; other inputs keep the feature.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

# The component types ui_loadsave.add_component saves a value (or visibility) for, by class name.
TRACKED = {"Slider", "Radio", "Checkbox", "Textbox", "Number", "Dropdown", "Button"}


def config_key(component: Any) -> str | None:
    """The part of the webui's key that comes from the component (its label; a button's text)."""
    kind = type(component).__name__
    if kind not in TRACKED:
        return None
    label = getattr(component, "label", None)
    if label is not None:
        return str(label)
    if kind == "Button" and getattr(component, "value", None) is not None:
        return str(component.value)
    return None


def colliding(components: Iterable[Any]) -> list[Any]:
    """Every component whose key another component of the tab shares."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for c in components:
        key = config_key(c)
        if key is not None:
            groups[key].append(c)
    return [c for group in groups.values() if len(group) > 1 for c in group]


def outputs(components: Iterable[Any]) -> list[Any]:
    """Read-only components (status lines, results): a saved value would pin an old message
    ("no model is loaded yet…") into every later start."""
    return [c for c in components if config_key(c) is not None and getattr(c, "interactive", None) is False]


def opt_out(components: Iterable[Any], always: Iterable[Any] = ()) -> int:
    """Mark ``do_not_save_to_config`` on the colliding and the read-only components, and on
    ``always`` (defaults worked out at each start, from the model or our settings: a saved first
    start's value would be forced back on every later one). Returns how many."""
    components = list(components)
    hit = list({id(c): c for c in [*colliding(components), *outputs(components), *always]}.values())
    for c in hit:
        c.do_not_save_to_config = True
    return len(hit)
