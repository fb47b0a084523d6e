"""The indexing progress bar (rich, loaded only when shown), or a silent stand-in."""

from __future__ import annotations


class NoBar:
    def advance(self) -> None:
        pass

    def __enter__(self) -> NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class RichBar:
    def __init__(self, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from ingestion.progress import RateColumn

        self.progress = Progress(
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn("videos"),
            TimeElapsedColumn(),
            transient=False,
        )
        self.task = self.progress.add_task("index", total=total)

    def advance(self) -> None:
        self.progress.advance(self.task)

    def __enter__(self) -> RichBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def index_progress(enabled: bool, total: int) -> NoBar | RichBar:
    return RichBar(total) if enabled else NoBar()
