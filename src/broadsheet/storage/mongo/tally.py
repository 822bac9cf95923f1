"""Commands into the request's tally (``broadsheet.telemetry``), from PyMongo's monitoring.

Every command the client sends counts, transaction control included, as the command budgets
in ``tests/mongo`` count them; the time is the driver's own measure of each round trip.
"""

from __future__ import annotations

from pymongo import monitoring

from broadsheet.telemetry import current_tally


class CommandTally(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if (tally := current_tally()) is not None:
            tally.add(queries=1)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if (tally := current_tally()) is not None:
            tally.add(seconds=event.duration_micros / 1_000_000)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if (tally := current_tally()) is not None:
            tally.add(seconds=event.duration_micros / 1_000_000)
