"""Where a DynamoDB failure becomes a domain error (`dynamodb_base.domain_error`): what botocore
raises before anything is sent counts as what it is. Credentials that are incomplete or could not
be read are the deployment's to mend (a refusal: queued work waits for the operator), not a table
that did not answer; a request botocore will not send is a bug."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from pynamodb.exceptions import GetError, TransactWriteError

from functions.shared.errors import StorageRefused, StorageUnavailable
from functions.shared.storage.dynamodb_base import StorageBug, domain_error


@pytest.mark.parametrize(
    ("cause", "expected", "words"),
    [
        (NoCredentialsError(), StorageRefused, "no AWS credentials found"),
        (
            PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            StorageRefused,
            "incomplete",
        ),
        (
            CredentialRetrievalError(provider="sso", error_msg="token expired"),
            StorageRefused,
            "could not be read",
        ),
        (ParamValidationError(report="Invalid type for parameter Key"), StorageBug, "reading p"),
        (
            EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"),
            StorageUnavailable,
            "did not answer",
        ),
    ],
)
@pytest.mark.parametrize("wrapper", [GetError, TransactWriteError])
def test_what_botocore_raises_before_sending_is_named_for_what_it_is(cause, expected, words, wrapper):
    error = domain_error(wrapper("failed", cause=cause), "reading p")
    assert type(error) is expected
    assert words in str(error)
