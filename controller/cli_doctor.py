"""psctl doctor: the command (parse its targets, wire AWS read-only, print, pick the exit status).

Exit status (contract): 0 no finding of severity error, 1 at least one, 2 the chain could not be
read. Neighbours: `controller.doctor` (discovery, checks, report), `controller.cli_args`.
"""

from __future__ import annotations
