"""The AWS CDK app that deploys the fraud-management backend (see docs/design.md, "Infrastructure").

Only the CDK app imports this package; the Lambda bundle never contains it (STYLE 12)."""
