"""psctl doctor: explain, hop by hop and from AWS's own state, why a request through the chain
fails, with the fix (contract section "Diagnosis: psctl doctor").

Read-only by construction: `controller.aws.doctor_reads` makes only Describe/Get/List calls;
`discover` follows the chain from where it starts and fills `facts.Facts`; `checks` are pure
functions of those facts (one small module per family, one function per finding code); `report`
turns findings into hops with marks and the JSON/text output. Neighbours: `controller.cli_doctor`
(the command), `controller.runtime` (runs the same checks on unhealthy Ready specs).
"""
