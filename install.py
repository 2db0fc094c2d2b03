"""Run by the webui at every launch, in its own process (modules/launch_utils.py:228-241).

Installs only what is missing, never pins over a package the webui already has, prints nothing
when there is nothing to do, and does nothing under --skip-install (``launch.run_pip`` returns
without running then, launch_utils.py:139-144).
"""

# (import name, pip requirement). All ship with the webui 1.10.1; opencv comes in through its
# dependencies. Listed here so a trimmed install (or Forge) still gets them.
NEEDED = (
    ("open_clip", "open-clip-torch"),
    ("safetensors", "safetensors"),
    ("cv2", "opencv-python-headless"),
)


def missing(launch) -> list[str]:
    return [pip_name for import_name, pip_name in NEEDED if not launch.is_installed(import_name)]


def main(launch) -> None:
    for requirement in missing(launch):
        launch.run_pip(f"install {requirement}", f"sd-webui-textinv requirement: {requirement}")


if __name__ == "__main__":
    import launch

    main(launch)
