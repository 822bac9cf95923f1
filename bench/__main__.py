"""``python -m bench``: what ``bench/run`` runs."""

from bench.runner import main

raise SystemExit(main())
