"""Doctor checks, family `apigw` (see `controller.doctor.checks`). Each check is a pure function
of `Facts` that returns the findings of one code. Neighbours: `controller.doctor.facts`,
`controller.doctor.model`.
"""

from __future__ import annotations

from controller.doctor.checks import Check

CHECKS: tuple[Check, ...] = ()
