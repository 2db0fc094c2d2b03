"""A pre-flight report: checks, each with a level, what to do and the files concerned."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from enum import Enum

MAX_LISTED = 12


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    OK = "ok"


ERROR, WARNING, OK = Level.ERROR, Level.WARNING, Level.OK


@dataclass
class Check:
    key: str  # what was checked: "size", "captions", "model"… (the UI offers "crop them" for "size")
    level: Level
    title: str
    fix: str = ""
    files: list[str] = field(default_factory=list)
    action: str | None = None  # "crop": the UI offers "crop them"


@dataclass
class PreflightReport:
    checks: list[Check] = field(default_factory=list)
    initial_step: int = 0
    final_step: int = 0  # the step a successful run ends at (the schedule may end before max steps)
    schedule_text: str = ""
    run_folder: str = ""

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if c.level == ERROR]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(
        self, key: str, level: Level, title: str, fix: str = "", files=(), action: str | None = None
    ) -> None:
        self.checks.append(Check(key, level, title, fix, [str(f) for f in files], action))

    def offenders(self, key: str) -> list[str]:
        return [f for c in self.checks if c.key == key for f in c.files]

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "initial_step": self.initial_step,
            "final_step": self.final_step,
            "run_folder": self.run_folder,
            "schedule": self.schedule_text,
            "checks": [{**asdict(c), "level": c.level.value} for c in self.checks],
        }

    def summary(self) -> str:
        if self.ok:
            return (
                f"Pre-flight passed ({len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''})."
            )
        return "Pre-flight failed: " + "; ".join(c.title for c in self.errors)

    def to_markdown(self) -> str:
        icon = {ERROR: "❌", WARNING: "⚠️", OK: "✅"}
        lines = [f"**{self.summary()}**", ""]
        for c in sorted(self.checks, key=lambda c: (c.level != ERROR, c.level != WARNING)):
            line = f"- {icon[c.level]} {c.title}"
            if c.fix and c.level != OK:
                line += f" — *{c.fix}*"
            lines.append(line)
            names = [os.path.basename(f) for f in c.files]
            if names:
                more = f" … and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
                lines.append(f"  - {', '.join(f'`{n}`' for n in names[:MAX_LISTED])}{more}")
        return "\n".join(lines)
