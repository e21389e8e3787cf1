"""The PrivateService v1alpha1 contract in code: models, cross-field rules, loading, the CRD.

`models` holds the pydantic models, `rules` the cross-field checks, `loader` turns YAML files,
directories, strings and mappings into validated documents with located problems, `names`
derives deterministic AWS names, and `crd` generates the CustomResourceDefinition. Everything
else in the controller depends on this package; it depends on nothing of the controller.
"""

from controller.spec.loader import (
    LoadedDocument,
    Located,
    LocatedProblem,
    load_paths,
    load_text,
    parse_object,
)
from controller.spec.models import PrivateService
from controller.spec.names import aws_name
from controller.spec.rules import Problem, check

__all__ = [
    "LoadedDocument",
    "Located",
    "LocatedProblem",
    "PrivateService",
    "Problem",
    "aws_name",
    "check",
    "load_paths",
    "load_text",
    "parse_object",
]
