"""Element ids, settings keys and the tab's identity: one place so CSS, JS and tests agree."""

TAB_ID = "textinv"
TAB_LABEL = "TI Helper"
SETTINGS_SECTION = ("textinv", "Textual Inversion Helper")
API_PREFIX = "/textinv/v1"


def elem_id(name: str) -> str:
    """Every element id of the tab: ``textinv-<name>``."""
    return f"{TAB_ID}-{name}"


def setting_key(name: str) -> str:
    """Every settings key: ``textinv_<name>``."""
    return f"{TAB_ID}_{name}"
