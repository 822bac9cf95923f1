"""Broadsheet's benchmark: the real server under wrk, against a raw one-statement ceiling.

Run it with ``bench/run`` (see ``bench/README.md``). It talks to Broadsheet only through the
``broadsheet`` command and HTTP, so it measures what a user runs.
"""
