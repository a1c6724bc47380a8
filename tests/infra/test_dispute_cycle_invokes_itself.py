"""The dispute cycle hands what its time did not reach on to a fresh invocation of its own function
(`functions.disputes.continuation`): its role may invoke that one function, and no role may invoke
any other, nor may any other role invoke a function at all."""

from __future__ import annotations

import fnmatch

from infra import constants, permissions
from tests.infra import cfn

INVOKE = "lambda:InvokeFunction"


def _invoke_grants(template: cfn.Template, role_id: str) -> set[cfn.Grant]:
    """The role's grants whose action is, or matches, Lambda's InvokeFunction (`lambda:*`, `*`)."""
    return {g for g in template.grants(role_id) if fnmatch.fnmatchcase(INVOKE, g.action)}


def _cycle(template: cfn.Template) -> str:
    return template.functions_by_handler()[constants.DISPUTE_CYCLE.handler]


def test_the_dispute_cycle_may_invoke_its_own_function_and_nothing_else(template: cfn.Template) -> None:
    cycle = _cycle(template)
    name = template.props(cycle)["FunctionName"]

    grants = _invoke_grants(template, template.function_role(cycle))

    # its own function, unqualified, by the name the handler invokes (the context's function_name)
    assert name == constants.DISPUTE_CYCLE.function_name(constants.STACK_NAME)
    own = f"arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{name}"
    assert grants == {cfn.Grant(INVOKE, own)}


def test_no_other_role_may_invoke_a_function(template: cfn.Template) -> None:
    cycle_role = template.function_role(_cycle(template))
    for role_id in template.of_type("AWS::IAM::Role"):
        if role_id != cycle_role:
            assert not _invoke_grants(template, role_id), role_id


def test_only_the_dispute_cycle_is_declared_to_invoke_itself() -> None:
    assert {name for name, access in permissions.ACCESS.items() if access.invoke_self} == {"dispute_cycle"}
