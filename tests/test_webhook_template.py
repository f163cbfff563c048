"""template.yaml's webhook signing (issue 16): on by default with a secret the stack generates, a named secret
instead when one is given, off only when WebhookSigning=off — checked by resolving the template's conditions and
the functions' environment and roles under each choice of parameters, then reading that environment as a function
does."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from courier.doors.signatures import COURIER, scheme_of
from courier.settings import Settings
from sandbox.stack import load_template

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
NO_VALUE: Any = object()


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


class Resolver:
    """The template's values under given parameters: parameters and conditions resolved, resources left as Refs."""

    def __init__(self, template: dict[str, Any], **parameters: str) -> None:
        self.template = template
        defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
        self.parameters = {**defaults, **parameters}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, argument)] = value.items()
            if key == "Ref":
                if argument == "AWS::NoValue":
                    return NO_VALUE
                return self.parameters.get(argument, {"Ref": argument})
            if key in ("Condition", "Fn::Condition"):
                return self.condition(argument)
            if key == "Fn::If":
                name, then, otherwise = argument
                return self.resolve(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                return self.resolve(argument[0]) == self.resolve(argument[1])
            if key == "Fn::Not":
                return not self.resolve(argument[0])
            if key == "Fn::And":
                return all(self.resolve(item) for item in argument)
            if key == "Fn::Sub" and isinstance(argument, str):
                for name, parameter in self.parameters.items():
                    argument = argument.replace("${" + name + "}", parameter)
                return argument
        return {k: self.resolve(v) for k, v in value.items()}

    def exists(self, resource: str) -> bool:
        condition = self.template["Resources"][resource].get("Condition")
        return condition is None or self.condition(condition)

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
