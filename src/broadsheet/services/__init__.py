"""Use cases. One function is one unit of work: it opens the UoW, commits once, or rolls back.

Services import only ``broadsheet.domain``; the web layer and the CLI call the same functions.
"""
