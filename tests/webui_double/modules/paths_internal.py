"""modules/paths_internal.py:10-38 — paths; tests point data_path at a tmp folder."""

import os
import tempfile

script_path = os.environ.get("TEXTINV_DOUBLE_SCRIPT_PATH", tempfile.gettempdir())
data_path = os.environ.get("TEXTINV_DOUBLE_DATA_PATH", tempfile.gettempdir())
models_path = os.path.join(data_path, "models")
extensions_dir = os.path.join(data_path, "extensions")
default_output_dir = os.path.join(data_path, "outputs")
