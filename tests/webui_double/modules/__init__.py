"""Double of the webui's ``modules`` package (v1.10.1)."""
