"""Broadsheet: a publishing platform serving the RealWorld API over SQL and document stores."""
