"""Checkov, the second scanner `make synth` runs: nothing unacknowledged, every acknowledgment on the
resource it concerns with a reason, and an unacknowledged finding fails."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from infra import bundle, checkov_scan, constants
from infra.capabilities.nag import CHECKOV_METADATA
from tests.infra import cfn
from tests.infra.conftest import Synthesized

# Every acknowledged Checkov check, and the kinds of resource it may sit on. A new acknowledgment is a
# decision to review: add it here with the construct's written reason.
ACKNOWLEDGED = {
    "CKV_AWS_115": {"AWS::Lambda::Function"},  # no reserved concurrency: bounded elsewhere
    "CKV_AWS_116": {"AWS::Lambda::Function"},  # synchronous, or on-failure destinations
    "CKV_AWS_117": {"AWS::Lambda::Function"},  # no VPC: AWS APIs only
    "CKV_AWS_173": {"AWS::Lambda::Function"},  # no secret in any environment
    "CKV_AWS_158": {"AWS::Logs::LogGroup"},  # CloudWatch Logs' own encryption
    "CKV_AWS_119": {"AWS::DynamoDB::Table"},  # DynamoDB's own key for the system of record
    "CKV_AWS_149": {"AWS::SecretsManager::Secret"},  # Secrets Manager's own key
    "CKV_AWS_27": {"AWS::SQS::Queue"},  # SQS-managed encryption, which the check does not read
    "CKV_AWS_59": {"AWS::ApiGateway::Method"},  # only on a method without an authorizer
    "CKV_AWS_120": {"AWS::ApiGateway::Stage"},  # no cache of per-caller answers
    "CKV_AWS_68": {"AWS::CloudFront::Distribution"},  # the web ACL is on the API's stage
    "CKV_AWS_174": {"AWS::CloudFront::Distribution"},  # only without a custom domain
    "CKV_AWS_18": {"AWS::S3::Bucket"},  # only the log bucket
    "CKV_AWS_21": {"AWS::S3::Bucket"},  # no versions of a build output, nor of expiring logs
    "CKV_AWS_192": {"AWS::WAFv2::WebACL"},  # no JVM; no body-inspecting managed rules
}


def _template_file(synthesized: Synthesized) -> Path:
    return synthesized.assembly_dir / f"{constants.STACK_NAME}.template.json"


@pytest.fixture(scope="module")
def report(synthesized: Synthesized) -> checkov_scan.Report:
    return checkov_scan.scan(_template_file(synthesized))


def test_checkov_finds_nothing_unacknowledged(report: checkov_scan.Report) -> None:
    assert [str(finding) for finding in report.failed] == []
    assert report.passed > 200  # it did read the template's resources


def test_each_acknowledgment_sits_on_a_resource_it_concerns_with_a_reason(
    report: checkov_scan.Report, template: cfn.Template
) -> None:
    assert report.acknowledged, "no acknowledged finding: is the metadata in the template?"
    for finding in report.acknowledged:
        assert finding.resource_type in ACKNOWLEDGED.get(finding.check, set()), str(finding)
        assert len(finding.comment) > 60, f"{finding}: a reason, not a label"
    # what Checkov reads is what the constructs wrote, and nothing else is skipped
    written = {
        (skip["id"], logical_id)
        for logical_id, resource in template.resources.items()
        for skip in resource.get("Metadata", {}).get(CHECKOV_METADATA, {}).get("skip", [])
    }
    assert {(f.check, f.resource) for f in report.acknowledged} == written


def test_only_methods_without_an_authorizer_acknowledge_its_absence(template: cfn.Template) -> None:
    for method_id, method in template.of_type("AWS::ApiGateway::Method").items():
        skipped = {s["id"] for s in method.get("Metadata", {}).get(CHECKOV_METADATA, {}).get("skip", [])}
        if "CKV_AWS_59" in skipped:
            assert method["Properties"].get("AuthorizationType", "NONE") == "NONE", method_id


def test_an_unacknowledged_finding_fails(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the synthesized template's queues (a scan of every resource is the test above) with
    # one acknowledgment taken away (the scoring queue's, say)
    document = copy.deepcopy(synthesized.template.document)
    document["Resources"] = {
        logical_id: resource
        for logical_id, resource in document["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue"
    }
    assert len(document["Resources"]) > 1
    _, mapping = synthesized.template.event_source_mapping(constants.SCORE.handler)
    queue = cfn.referenced_id(mapping["Properties"]["EventSourceArn"])
    skips = document["Resources"][queue]["Metadata"][CHECKOV_METADATA]["skip"]
    document["Resources"][queue]["Metadata"][CHECKOV_METADATA]["skip"] = [
        skip for skip in skips if skip["id"] != "CKV_AWS_27"
    ]
    template_file = tmp_path / "fraud-management.template.json"
    template_file.write_text(json.dumps(document))

    # When `make synth` checks it (the same entry point)
    exit_code = checkov_scan.main([str(template_file)])

    # Then that finding, and it alone, fails the run
    printed = capsys.readouterr().out
    assert exit_code == 1
    assert re.findall(r"FAILED (\S+) on (\S+)", printed) == [("CKV_AWS_27", queue)]


def test_make_synth_runs_checkov_on_the_template_after_cfn_lint() -> None:
    makefile = (bundle.ROOT / "Makefile").read_text()
    recipe = makefile.split("\nsynth:", 1)[1].split("\n\n", 1)[0]
    lint = recipe.index("cfn-lint")
    scan = recipe.index("-m infra.checkov_scan infra/cdk.out/*.template.json")  # whatever its stackName
    assert lint < scan


def test_checkov_is_pinned() -> None:
    (requirement,) = checkov_scan.requirements()
    assert re.fullmatch(r"checkov==\d+\.\d+\.\d+", requirement)
