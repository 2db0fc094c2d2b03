"""sd-webui-textinv: the whole Textual Inversion workflow in one webui tab.

Importing this package must stay cheap (webui start-up): no torch, cv2 or open_clip here.
"""

__version__ = "0.1.0"
