"""A rich progress column that shows a rate ("3.2 videos/s")."""

from __future__ import annotations

from rich.progress import ProgressColumn, Task
from rich.text import Text


class RateColumn(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(
            f"{speed:.2f} {self.unit}/s" if speed else f"-- {self.unit}/s", style="progress.data.speed"
        )
