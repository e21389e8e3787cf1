"""API Gateway v1 custom domains: UpdateDomainName, and the mappings of a domain that has none.

Restores (AWS API reference, UpdateDomainName: "Changes information about the DomainName
resource", JSON-Patch operations on its properties such as `/regionalCertificateArn`,
`/certificateArn` and `/securityPolicy`; an unknown path is a BadRequestException): moto has no
UpdateDomainName (an HTML 500 that botocore retries), so a changed certificate could never be
put back on a custom domain. And GetBasePathMappings ("Represents a collection of
BasePathMapping resources") of an existing domain without mappings is an empty collection;
moto fails with a KeyError (an HTML 500 that botocore retries).
Neighbours: `patching`, `apigateway_tags` (tags on `/domainnames/NAME`),
`controller.handlers.apigw_domain`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from moto.apigateway import models as apigw_models
from moto.apigateway import responses as apigw_responses
from moto.apigateway.exceptions import BadRequestException

from controller.sandbox.fidelity.patching import add, wrap

# Patch path -> moto attribute of DomainName.
_PATHS = {
    "/regionalCertificateArn": "regional_certificate_arn",
    "/regionalCertificateName": "regional_certificate_name",
    "/certificateArn": "certificate_arn",
    "/certificateName": "certificate_name",
    "/securityPolicy": "security_policy",
}


def apply() -> None:
    """Install UpdateDomainName (PATCH /domainnames/NAME) and empty mapping lists."""
    add(apigw_responses.APIGatewayResponse, "update_domain_name", _update_domain_name)
    wrap(apigw_models.APIGatewayBackend, "get_base_path_mappings")(_get_base_path_mappings)


def _get_base_path_mappings(original: Any, self: Any, domain_name: str) -> Any:
    if domain_name in self.domain_names and domain_name not in self.base_path_mappings:
        return []
    return original(self, domain_name)


def _update_domain_name(self: Any) -> tuple[int, dict[str, Any], str]:
    domain = self.backend.get_domain_name(unquote(self.path.split("/")[2]))
    for operation in self._get_param("patchOperations") or []:
        op, path = operation.get("op"), operation.get("path", "")
        if op != "replace" or path not in _PATHS:
            raise BadRequestException(f"Invalid patch path '{path}' specified for op '{op}'")
        setattr(domain, _PATHS[path], operation.get("value"))
    return 200, {}, json.dumps(domain.to_json())
