"""Reading a synthesized CloudFormation template by meaning, never by generated logical id.

References are rendered as text (`<Id.Arn>`, `<Id>`), so a policy resource reads like
`<DataTableABC.Arn>/index/outbox`; the tests compare such texts built from the template's own ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

APP_PACKAGE = "functions."  # every handler of the app is package-qualified (STYLE 3)


def render(value: Any) -> str:
    """A CloudFormation value (literal or intrinsic) as comparable text."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return f"<{argument}>"
        if key == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if key == "Fn::Join":
            separator, parts = argument
            return separator.join(render(part) for part in parts)
    return repr(value)


def referenced_id(value: Any) -> str:
    """The logical id a `Ref` or `Fn::GetAtt` points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    raise AssertionError(f"not a reference to a resource: {value!r}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str  # rendered
    condition: str = ""  # the statement's Condition as canonical JSON; "" when it has none


def condition_text(condition: dict[str, Any] | None) -> str:
    return json.dumps(condition, sort_keys=True) if condition else ""


# The two KMS keys, by what they seal (their descriptions)
WEBHOOK_SECRETS_KEY = {"Description": "Seals webhook signing secrets (SPEC 6)"}
PROGRAM_SECRETS_KEY = {"Description": "Seals programs' request-signing secrets (SPEC 2)"}


class Template:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.resources: dict[str, dict[str, Any]] = document["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def only(self, resource_type: str, **properties: Any) -> tuple[str, dict[str, Any]]:
        """The one resource of that type, among those whose properties have these values when given
        (the two KMS keys by their descriptions)."""
        found = {
            k: r
            for k, r in self.of_type(resource_type).items()
            if all(r.get("Properties", {}).get(name) == value for name, value in properties.items())
        }
        assert len(found) == 1, f"expected one {resource_type} with {properties}, found {sorted(found)}"
        return next(iter(found.items()))

    def props(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties", {})

    # --- functions ------------------------------------------------------------------------------
    def functions_by_handler(self) -> dict[str, str]:
        """handler path -> logical id of each of the app's functions: those whose handler is in the
        `functions` package. The CDK's own helpers (the console's deployment) are `cdk_functions()`."""
        functions = self.of_type("AWS::Lambda::Function")
        found: dict[str, str] = {}
        for logical_id, resource in functions.items():
            handler = resource["Properties"]["Handler"]
            if not handler.startswith(APP_PACKAGE):
                continue
            assert handler not in found, f"two functions with handler {handler}"
            found[handler] = logical_id
        return found

    def cdk_functions(self) -> set[str]:
        """Logical ids of the functions that are not the app's (their handlers are outside `functions`)."""
        app = set(self.functions_by_handler().values())
        return set(self.of_type("AWS::Lambda::Function")) - app

    def event_source_mapping(self, handler: str) -> tuple[str, dict[str, Any]]:
        """The one queue event source of the app's function with this handler (scoring's, the
        webhooks', the workflow runner's)."""
        function_id = self.functions_by_handler()[handler]
        found = {
            k: m
            for k, m in self.of_type("AWS::Lambda::EventSourceMapping").items()
            if referenced_id(m["Properties"]["FunctionName"]) == function_id
        }
        assert len(found) == 1, f"expected one event source of {handler}, found {sorted(found)}"
        return next(iter(found.items()))

    def function_role(self, function_id: str) -> str:
        return referenced_id(self.props(function_id)["Role"])

    def grants(self, role_id: str) -> set[Grant]:
        """Every (action, resource) an Allow statement attached to the role gives it."""
        found: set[Grant] = set()
        for statement in self._statements(role_id):
            assert statement["Effect"] == "Allow", statement
            condition = condition_text(statement.get("Condition"))
            for action in as_list(statement["Action"]):
                for resource in as_list(statement["Resource"]):
                    found.add(Grant(action, render(resource), condition))
        return found

    def _statements(self, role_id: str) -> Iterator[dict[str, Any]]:
        role = self.props(role_id)
        for policy in role.get("Policies", []):
            yield from as_list(policy["PolicyDocument"]["Statement"])
        for policy in self.of_type("AWS::IAM::Policy").values():
            attached = [referenced_id(r) for r in policy["Properties"].get("Roles", [])]
            if role_id in attached:
                yield from as_list(policy["Properties"]["PolicyDocument"]["Statement"])

    # --- the web console's buckets ----------------------------------------------------------------
    def log_bucket(self) -> str:
        """The bucket CloudFront writes its standard logs to."""
        _, distribution = self.only("AWS::CloudFront::Distribution")
        return referenced_id(distribution["Properties"]["DistributionConfig"]["Logging"]["Bucket"])

    def console_bucket(self) -> str:
        """The bucket of the console's files: the one that is not the log bucket."""
        (bucket,) = set(self.of_type("AWS::S3::Bucket")) - {self.log_bucket()}
        return bucket

    # --- API Gateway -----------------------------------------------------------------------------
    def resource_path(self, resource_id: str) -> str:
        """The full path of an API Gateway resource, walking up its parents."""
        parts = []
        current: str | None = resource_id
        while current is not None and current in self.resources:
            props = self.props(current)
            if self.resources[current]["Type"] != "AWS::ApiGateway::Resource":
                break
            parts.append(props["PathPart"])
            parent = props["ParentId"]
            current = referenced_id(parent) if "Ref" in parent else None  # GetAtt RootResourceId: the root
        return "/" + "/".join(reversed(parts))

    def method_path(self, method_id: str) -> str:
        resource = self.props(method_id)["ResourceId"]
        if "Fn::GetAtt" in resource:  # the root resource
            return "/"
        return self.resource_path(resource["Ref"])

    def integration_function(self, method_id: str) -> str | None:
        """The logical id of the Lambda function a proxy integration invokes."""
        uri = self.props(method_id)["Integration"]["Uri"]
        for part in uri["Fn::Join"][1]:
            if isinstance(part, dict) and "Fn::GetAtt" in part:
                return part["Fn::GetAtt"][0]
        return None
