"""template.yaml: the wiring the contract promises, checked on the template itself (cfn-lint and
`sam validate --lint` run in `make template`; `sam build` in `make build`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from courier.destinations.registry import ENDPOINTS
from infra.template import TEMPLATE, function_wirings, load_template
from tests.iam import NO_VALUE, TemplateValues

ROOT = TEMPLATE.parent
ENV_CONTRACT = {
    "appmetrica": {
        "APPMETRICA_API_URL",
        "APPMETRICA_APPLICATION_ID",
        "APPMETRICA_POST_API_KEY_SECRET",
        "APPMETRICA_AT_LEAST_ONCE",
    },
    "altcraft": {"ALTCRAFT_API_URL", "ALTCRAFT_API_TOKEN_SECRET", "ALTCRAFT_DB_ID", "ALTCRAFT_MATCHING"},
}
ROUTES = {endpoint.name: endpoint.destination.route for endpoint in ENDPOINTS}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_finds_nothing() -> None:
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1"]))
    assert [str(match) for match in matches] == []


def test_functions_run_python_313_on_arm64_with_the_shared_layer(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    layer = template["Resources"]["CommonLayer"]
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"] == "layers/common/"
    assert globals_["Layers"] == [{"Ref": "CommonLayer"}]


LOCKS = sorted([*ROOT.glob("requirements-*.txt"), ROOT / "layers/common/requirements.txt"])


def _locked(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """A lock file's packages: name → (version, hashes)."""
    text = re.sub(r"\\\n\s*", " ", lock.read_text())  # continuation lines joined
    packages = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement, *options = line.split(" --hash=")
            pinned = re.fullmatch(r"([A-Za-z0-9_.\-\[\],]+)==([0-9][\w.]*)(?: ;.*)?", requirement.strip())
            assert pinned, f"{lock.name}: {requirement} is not pinned"
            packages[pinned[1].lower()] = (pinned[2], [option.strip() for option in options])
    return packages


@pytest.mark.parametrize("lock", LOCKS, ids=lambda lock: str(lock.relative_to(ROOT)))
def test_every_install_is_locked_with_hashes_and_keeps_the_choices_of_its_in_file(lock: Path) -> None:
    # Given a lock file and the .in file it was made from
    packages = _locked(lock)
    chosen = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", lock.with_suffix(".in").read_text(), re.MULTILINE)
    # Then every package, transitive ones too, is pinned with at least one sha256 hash
    assert packages
    assert all(
        hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes) for _, hashes in packages.values()
    )
    # And the lock is up to date with the versions the .in file chooses (`make lock` after editing it)
    assert all(packages[name.lower()][0] == version for name, version in chosen)


def test_the_layer_leaves_boto3_to_the_runtime_and_tests_use_the_layers_versions() -> None:
    layer = _locked(ROOT / "layers/common/requirements.txt")
    dev = _locked(ROOT / "requirements-dev.txt")
    assert not {"boto3", "botocore"} & layer.keys()
    assert all(dev[name][0] == version for name, (version, _) in layer.items())


def test_the_makefile_installs_only_from_the_locks_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"\$\(PIP_INSTALL\) -r (\S+)", makefile)
    assert "PIP_INSTALL = -m pip install --quiet --require-hashes" in makefile
    assert {"requirements-pip.txt", "requirements-dev.txt", "requirements-sam.txt", "requirements-checkov.txt"} <= set(
        installs
    )
    # And the only other install is the `courier` command's own code, with nothing fetched for it
    others = [line for line in makefile.splitlines() if "pip install" in line and "--require-hashes" not in line]
    assert [line.strip() for line in others] == [
        "$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . $(QUIET_PIP)"
    ]


def test_each_function_folder_has_a_handler(template: dict[str, Any]) -> None:
    for resource in functions(template).values():
        props = resource["Properties"]
        assert props["Handler"] == "app.lambda_handler"
        assert "def lambda_handler(" in (ROOT / props["CodeUri"] / "app.py").read_text()


def test_queues_outlast_six_function_timeouts_and_redrive_to_a_14_day_dlq(template: dict[str, Any]) -> None:
    max_timeout = template["Parameters"]["FunctionTimeoutSeconds"]["MaxValue"]
    max_window = template["Parameters"]["QueueBatchingWindowSeconds"]["MaxValue"]
    resources = template["Resources"]
    wirings = function_wirings(template)
    assert wirings
    for wiring in wirings.values():
        assert wiring.visibility_timeout >= 6 * max_timeout + max_window
        assert wiring.max_receive_count == 5
        assert resources[wiring.dlq_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_sqs_events_report_batch_item_failures_with_bounded_concurrency(template: dict[str, Any]) -> None:
    for resource in functions(template).values():
        [sqs] = [e["Properties"] for e in resource["Properties"]["Events"].values() if e["Type"] == "SQS"]
        assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert sqs["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "MaximumConcurrency"}
        assert sqs["BatchSize"] == {"Ref": "QueueBatchSize"}
        assert sqs["MaximumBatchingWindowInSeconds"] == {"Ref": "QueueBatchingWindowSeconds"}


def test_https_routes_require_an_api_key_and_a_throttled_usage_plan(template: dict[str, Any]) -> None:
    api = template["Resources"]["IngestApi"]["Properties"]
    assert api["Auth"]["ApiKeyRequired"] is True
    assert api["Auth"]["UsagePlan"]["CreateUsagePlan"] == "PER_API"
    assert set(api["Auth"]["UsagePlan"]["Throttle"]) == {"RateLimit", "BurstLimit"}
    routes = {}
    for resource in functions(template).values():
        for event in resource["Properties"]["Events"].values():
            if event["Type"] == "Api":
                assert event["Properties"]["Auth"]["ApiKeyRequired"] is True
                assert event["Properties"]["Method"] == "post"
                routes[event["Properties"]["Path"]] = event["Properties"]["RestApiId"]
    assert routes == {route: {"Ref": "IngestApi"} for route in ROUTES.values()}
    assert {name: wiring.routes for name, wiring in function_wirings(template).items()} == {
        name: [route] for name, route in ROUTES.items()
    }


def test_the_bucket_announces_each_prefix_to_its_functions_queue_only(template: dict[str, Any]) -> None:
    wirings = function_wirings(template)
    assert {name: wiring.prefixes for name, wiring in wirings.items()} == {name: [f"{name}/"] for name in wirings}
    policy = template["Resources"]["DataBucketQueuePolicy"]["Properties"]
    statement = policy["PolicyDocument"]["Statement"][0]
    bucket_name = template["Resources"]["DataBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(f":s3:::{bucket_name}")
    assert policy["Queues"] == [{"Ref": w.queue_id} for w in wirings.values()]
    assert statement["Resource"] == [{"Fn::GetAtt": [w.queue_id, "Arn"]} for w in wirings.values()]
    assert template["Resources"]["DataBucket"]["DependsOn"] == ["DataBucketQueuePolicy"]


def test_functions_get_the_contracts_environment(template: dict[str, Any]) -> None:
    shared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for resource in functions(template).values():
        own = set(resource["Properties"]["Environment"]["Variables"])
        family = "altcraft" if resource["Properties"]["CodeUri"].startswith("functions/altcraft") else "appmetrica"
        assert own | shared >= {"INGEST_QUEUE_URL", "DATA_BUCKET", *ENV_CONTRACT[family]}
        assert not own & {"APPMETRICA_POST_API_KEY", "ALTCRAFT_API_TOKEN"}  # secrets come from Secrets Manager


def test_outputs_name_the_bucket_queues_and_api(template: dict[str, Any]) -> None:
    queues = {
        f"AppMetrica{kind}{queue}Url" for kind in ("Events", "Profiles") for queue in ("Queue", "DeadLetterQueue")
    }
    assert {"DataBucketName", "ApiUrl", *queues} <= set(template["Outputs"])


def test_sample_events_exist_for_every_function_and_door(template: dict[str, Any]) -> None:
    for name in function_wirings(template):
        names = {path.name for path in (ROOT / "events" / name).glob("*.json")}
        assert {"s3_notification_via_sqs.json", "sqs_records.json", "api_gateway_post.json"} <= names, name


def test_the_delivery_ledger_table_expires_its_items_and_every_function_uses_it(template: dict[str, Any]) -> None:
    table = template["Resources"]["IdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert template["Globals"]["Function"]["Environment"]["Variables"]["IDEMPOTENCY_TABLE"] == {
        "Ref": "IdempotencyTable"
    }
    for wiring in function_wirings(template).values():
        ledger = next(st for st in role_statements(template, wiring) if st["Sid"] == "Ledger")
        assert ledger["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}


def test_the_data_bucket_is_private_encrypted_versioned_tls_only_and_expires_rejected_rows(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["DataBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule.get("Prefix", ""): rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["rejected/"]["ExpirationInDays"] == {"Ref": "RejectedRetentionDays"}
    assert rules["reports/"]["ExpirationInDays"] == {"Ref": "ReportRetentionDays"}
    [deny] = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Action"], deny["Condition"]) == (
        "Deny",
        "s3:*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )


def test_queues_and_the_table_are_encrypted(template: dict[str, Any]) -> None:
    resources = template["Resources"].values()
    queues = [r["Properties"] for r in resources if r["Type"] == "AWS::SQS::Queue"]
    assert len(queues) == 2 * len(ENDPOINTS)  # a queue and a dead-letter queue per endpoint
    assert all(queue["SqsManagedSseEnabled"] is True for queue in queues)
    assert template["Resources"]["IdempotencyTable"]["Properties"]["SSESpecification"] == {"SSEEnabled": True}


def role_statements(template: dict[str, Any], wiring: Any) -> list[dict[str, Any]]:
    role_id = template["Resources"][wiring.logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    statements = [st for policy in role["Policies"] for st in policy["PolicyDocument"]["Statement"]]
    return [st for st in TemplateValues(template).resolve(statements) if st is not NO_VALUE]  # under the defaults


def test_each_function_has_its_own_role_scoped_to_its_own_resources(template: dict[str, Any]) -> None:
    # Given each function (moto checks no IAM; tests/iam.py runs the suite's calls against these roles)
    roles = set()
    for name, wiring in function_wirings(template).items():
        function = template["Resources"][wiring.logical_id]["Properties"]
        # Then it has a role of its own, so SAM adds no policy to it (no Resource * from AWSLambdaSQSQueueExecutionRole)
        assert "Policies" not in function
        role_id = function["Role"]["Fn::GetAtt"][0]
        roles.add(role_id)
        role = template["Resources"][role_id]["Properties"]
        assert role["ManagedPolicyArns"] == [
            {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
            {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"},
        ]
        statements = role_statements(template, wiring)
        # And no statement grants anything everywhere
        assert all(st["Resource"] != "*" for st in statements)
        by_sid = {st["Sid"]: st for st in statements}
        # And its queue is its own, its files its own prefix, its writes reports/ and rejected/ only
        assert by_sid["OwnQueue"]["Resource"] == {"Fn::GetAtt": [wiring.queue_id, "Arn"]}
        assert by_sid["ReadDroppedFiles"]["Resource"] == f"arn:aws:s3:::${{DataBucket}}/{name}/*"
        assert by_sid["ReadOwnMappings"]["Resource"] == f"arn:aws:s3:::${{DataBucket}}/mappings/{name}/*"
        writes = by_sid["WriteReportsAndRejectedRows"]["Resource"]
        assert [r.rsplit("/", 2)[-2] for r in writes] == ["reports", "rejected"]
        assert by_sid["Ledger"]["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
        # And a secret is named exactly: `-??????` is the six characters AWS adds, `-*` would match other secrets
        assert by_sid["ReadOwnSecret"]["Resource"].endswith(("/post-api-key-??????", "/api-token-??????"))
    assert len(roles) == len(function_wirings(template))


def test_no_literal_secret_in_the_template_or_samconfig() -> None:
    text = TEMPLATE.read_text() + (ROOT / "samconfig.toml").read_text()
    assert not re.search(r"(?i)(post_api_key|api_token|token|password)\s*[:=]\s*['\"]?[A-Za-z0-9]{16,}", text)
    assert "sandbox-" not in text


def test_every_checkov_skip_says_why(template: dict[str, Any]) -> None:
    skips = [
        skip
        for r in template["Resources"].values()
        for skip in r.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    assert all(len(skip["comment"]) > 30 for skip in skips)


def test_every_function_logs_to_a_group_the_stack_keeps_for_a_set_time(template: dict[str, Any]) -> None:
    # Given the log groups of the template
    groups = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    named = {group["LogGroupName"]["Fn::Sub"]: group["RetentionInDays"] for group in groups if "LogGroupName" in group}
    # Then each function's own group (the name Lambda writes to) is the stack's, kept LogRetentionDays
    for wiring in function_wirings(template).values():
        assert named[f"/aws/lambda/${{{wiring.logical_id}}}"] == {"Ref": "LogRetentionDays"}
    assert (
        template["Parameters"]["LogRetentionDays"]["Default"]
        in template["Parameters"]["LogRetentionDays"]["AllowedValues"]
    )


@pytest.mark.parametrize("account_role", ["create", "existing"])
def test_the_api_writes_an_access_log_by_default_without_bodies_to_a_group_kept_for_a_set_time(
    template: dict[str, Any], account_role: str
) -> None:
    # Given the template under its defaults (access log on), with or without setting the account's role
    values = TemplateValues(template, ApiGatewayAccountRole=account_role)
    api = values.resolve(template["Resources"]["IngestApi"]["Properties"])
    # Then the stage logs to the stack's access-log group, kept LogRetentionDays
    setting = api["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert values.exists("ApiAccessLogGroup")
    assert template["Resources"]["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # And a line says who called which route with what outcome, never a body
    line = json.loads(setting["Format"])
    assert {"requestId", "route", "status", "apiKeyId", "ip"} <= line.keys()
    assert not any("body" in variable.lower() for variable in line.values())
    # And API Gateway's account role is set by the stack only when asked, and outlives the stack
    assert values.exists("ApiGatewayAccount") is (account_role == "create")
    assert template["Resources"]["ApiGatewayCloudWatchRole"]["DeletionPolicy"] == "Retain"
    assert api["Variables"]["accountRole"] == ({"Ref": "ApiGatewayAccount"} if account_role == "create" else "existing")


def test_the_api_access_log_can_be_turned_off(template: dict[str, Any]) -> None:
    values = TemplateValues(template, ApiAccessLog="off")
    api = values.resolve(template["Resources"]["IngestApi"]["Properties"])
    assert api["AccessLogSetting"] is NO_VALUE
    assert not values.exists("ApiAccessLogGroup")
    assert not values.exists("ApiGatewayAccount")
