"""template.yaml's webhook signing (issue 16): on by default with a secret the stack generates, a named secret
instead when one is given, off only when WebhookSigning=off — checked by resolving the template's conditions and
the functions' environment and roles under each choice of parameters, then reading that environment as a function
does."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from courier.doors.signatures import COURIER, scheme_of
from courier.settings import Settings
from infra.template import load_template
from tests.iam import TemplateValues

SECRET = "WebhookSigningSecret"
ENVIRONMENT = [
    "WEBHOOK_SIGNING",
    "WEBHOOK_SIGNING_SECRET_SECRET",
    "WEBHOOK_SIGNATURE_HEADER",
    "WEBHOOK_SIGNATURE_PREFIX",
    "WEBHOOK_SIGNATURE_ENCODING",
    "WEBHOOK_SIGNED_CONTENT",
    "WEBHOOK_TIMESTAMP_HEADER",
    "WEBHOOK_TIMESTAMP_PREFIX",
]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


class Resolver(TemplateValues):
    """The template's values under given parameters, resources left as references (tests/iam.py)."""

    def environment(self) -> dict[str, Any]:
        variables = self.template["Globals"]["Function"]["Environment"]["Variables"]
        return {name: self.resolve(variables[name]) for name in ENVIRONMENT}

    def webhook_secret_statements(self) -> list[Any]:
        """Each function role's statement that lets it read the webhook signing secret (None where there is none)."""
        found = []
        resources = self.template["Resources"]
        for resource in resources.values():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            role = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
            statements = [s for p in role["Policies"] for s in self.resolve(p["PolicyDocument"]["Statement"])]
            found.append(next((s for s in statements if s.get("Sid") == "ReadWebhookSigningSecret"), None))
        return found


def settings_of(environment: dict[str, Any]) -> Settings:
    """The settings a function builds from this environment (a Ref to the secret stands for its ARN)."""
    values = {name: ("arn:aws:secretsmanager:…" if isinstance(v, dict) else v) for name, v in environment.items()}
    return Settings.model_validate(values)


def test_signing_is_on_by_default_with_a_secret_the_stack_generates(template: dict[str, Any]) -> None:
    # Given the template's default parameters
    defaults = Resolver(template)
    # Then the stack generates a random signing secret in Secrets Manager
    assert template["Parameters"]["WebhookSigning"]["Default"] == "courier"
    assert defaults.exists(SECRET)
    secret = template["Resources"][SECRET]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    # And every function is told to check Courier's signatures with it, and may read it
    environment = defaults.environment()
    assert environment["WEBHOOK_SIGNING"] == "courier"
    assert environment["WEBHOOK_SIGNING_SECRET_SECRET"] == {"Ref": SECRET}
    statements = defaults.webhook_secret_statements()
    assert len(statements) >= 8
    assert all(s["Action"] == "secretsmanager:GetSecretValue" and s["Resource"] == {"Ref": SECRET} for s in statements)
    assert scheme_of(settings_of(environment)) == COURIER
    # And the stack says where the secret is
    assert defaults.resolve(template["Outputs"]["WebhookSigningSecretId"]["Value"]) == {"Ref": SECRET}


def test_a_named_secret_is_used_instead_and_none_is_generated(template: dict[str, Any]) -> None:
    named = Resolver(template, WebhookSigningSecretName="shop/webhooks")
    assert not named.exists(SECRET)
    assert named.environment()["WEBHOOK_SIGNING_SECRET_SECRET"] == "shop/webhooks"
    for statement in named.webhook_secret_statements():
        assert statement["Resource"].endswith(":secret:shop/webhooks-??????")


def test_only_webhook_signing_off_turns_it_off(template: dict[str, Any]) -> None:
    # Given WebhookSigning=off (even with a secret named)
    off = Resolver(template, WebhookSigning="off", WebhookSigningSecretName="shop/webhooks")
    # Then no secret is generated or readable, and the functions run unsigned (and say so at cold start)
    assert not off.exists(SECRET)
    environment = off.environment()
    assert (environment["WEBHOOK_SIGNING"], environment["WEBHOOK_SIGNING_SECRET_SECRET"]) == ("off", "")
    assert off.webhook_secret_statements() == [None] * len(off.webhook_secret_statements())
    assert scheme_of(settings_of(environment)) is None
    assert "WebhookSigningSecretId" in template["Outputs"]
    assert template["Outputs"]["WebhookSigningSecretId"]["Condition"] == "SignedWebhooks"
    assert not off.condition("SignedWebhooks")


def test_a_providers_scheme_reaches_the_functions(template: dict[str, Any]) -> None:
    stripe = Resolver(
        template,
        WebhookSigning="hmac",
        WebhookSigningSecretName="stripe/whsec",
        WebhookSignatureHeader="Stripe-Signature",
        WebhookSignaturePrefix="v1=",
        WebhookSignedContent="timestamp.body",
        WebhookTimestampHeader="Stripe-Signature",
        WebhookTimestampPrefix="t=",
    )
    scheme = scheme_of(settings_of(stripe.environment()))
    assert scheme is not None
    assert (scheme.kind, scheme.signature_header, scheme.signature_prefix, scheme.encoding) == (
        "hmac",
        "Stripe-Signature",
        "v1=",
        "hex",
    )
    assert (scheme.signed_content, scheme.timestamp_header, scheme.timestamp_prefix) == (
        "timestamp.body",
        "Stripe-Signature",
        "t=",
    )
    assert scheme.problem() == ""


@pytest.mark.parametrize(
    ("parameter", "field"),
    [
        ("WebhookSigning", "webhook_signing"),
        ("WebhookSignatureEncoding", "webhook_signature_encoding"),
        ("WebhookSignedContent", "webhook_signed_content"),
    ],
)
def test_the_parameters_allow_what_the_settings_accept(template: dict[str, Any], parameter: str, field: str) -> None:
    allowed = set(template["Parameters"][parameter]["AllowedValues"])
    accepted = set(get_args(Settings.model_fields[field].annotation)) - {""}
    assert allowed == accepted
