"""What MiniStack cannot do as AWS does, and how the rehearsal bridges each gap.

Every bridge is applied to the rehearsal's copy of the packaged stack or to the deployed
emulator, never to ``serverless.yml``: what operators deploy stays exactly what osls generates.
Each one is recorded, so the rehearsal report says what was bridged; so is what MiniStack does
differently without a bridge (``note_node_runtime``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMPLATE = "cloudformation-template-update-stack.json"
STATE = "serverless-state.json"


@dataclass
class Bridges:
    applied: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.applied.append(text)


def patch_template(package_dir: Path, bridges: Bridges) -> None:
    """MiniStack's CloudFormation rejects the whole template over ``AWS::ApiGatewayV2::Deployment``
    ("Unrecognized resource types"). The stage is created without a deployment id here, and the
    deployment is made through the API after the stack is up (``deploy_websocket_stage``).

    ``osls deploy --package`` takes the template from ``serverless-state.json``; the copy in
    ``cloudformation-template-update-stack.json`` is patched too, so the two never disagree."""
    template_path = package_dir / TEMPLATE
    template: dict[str, Any] = json.loads(template_path.read_text())
    removed = _drop_api_deployments(template)
    template_path.write_text(json.dumps(template, indent=2))
    state_path = package_dir / STATE
    state: dict[str, Any] = json.loads(state_path.read_text())
    for name in _drop_api_deployments(state["service"]["provider"]["compiledCloudFormationTemplate"]):
        if name not in removed:
            removed.append(name)
    state_path.write_text(json.dumps(state, indent=2))
    for name in removed:
        bridges.note(f"template: removed {name} (AWS::ApiGatewayV2::Deployment, unknown to MiniStack)")


def _drop_api_deployments(template: dict[str, Any]) -> list[str]:
    resources: dict[str, Any] = template["Resources"]
    deployments = [name for name, r in resources.items() if r["Type"] == "AWS::ApiGatewayV2::Deployment"]
    for name in deployments:
        del resources[name]
        for resource in resources.values():
            properties = resource.get("Properties", {})
            if properties.get("DeploymentId") == {"Ref": name}:
                del properties["DeploymentId"]
            depends = resource.get("DependsOn")
            if isinstance(depends, list) and name in depends:
                depends.remove(name)
            elif depends == name:
                del resource["DependsOn"]
    return deployments


def deploy_websocket_stage(apigw: Any, *, api_id: str, stage: str, bridges: Bridges) -> None:
    """Does what the removed Deployment resource does: deploys the routes to the stage."""
    deployment = apigw.create_deployment(ApiId=api_id, StageName=stage, Description="rehearsal")
    bridges.note(f"api: CreateDeployment {deployment['DeploymentId']} for stage {stage} of {api_id}")


def ministack_management_endpoint(*, endpoint: str, api_id: str, stage: str) -> str:
    """MiniStack's @connections API for an API id (its path-based form of execute-api)."""
    return f"{endpoint}/_aws/execute-api/{api_id}/{stage}"


def ministack_websocket_url(*, endpoint: str, api_id: str, stage: str) -> str:
    return "ws://" + ministack_management_endpoint(endpoint=endpoint, api_id=api_id, stage=stage).split("://", 1)[1]


def point_functions_at_emulator(
    lambda_client: Any, *, functions: list[str], management_endpoint: str, bridges: Bridges
) -> None:
    """The stack sets MANAGEMENT_API_ENDPOINT to ``https://{api}.execute-api.{region}.amazonaws.com/{stage}``,
    which only AWS's DNS answers. The rehearsal rewrites that one variable to MiniStack's equivalent;
    every other variable stays as deployed."""
    for name in functions:
        config = lambda_client.get_function_configuration(FunctionName=name)
        variables = dict(config.get("Environment", {}).get("Variables", {}))
        deployed = variables.get("MANAGEMENT_API_ENDPOINT", "")
        if not deployed.startswith("https://") or ".execute-api." not in deployed:
            raise RuntimeError(f"{name}: unexpected MANAGEMENT_API_ENDPOINT {deployed!r}")
        variables["MANAGEMENT_API_ENDPOINT"] = management_endpoint
        lambda_client.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
        bridges.note(f"function {name}: MANAGEMENT_API_ENDPOINT {deployed} -> {management_endpoint}")


def ministack_http_api_url(*, endpoint: str, api_id: str) -> str:
    """MiniStack's path form of an HTTP API's ``ApiEndpoint``. Its own ApiEndpoint,
    ``http://{api}.execute-api.127.0.0.1:{port}``, names a host no resolver answers (AWS's,
    ``https://{api}.execute-api.{region}.amazonaws.com``, only AWS's DNS). The ``$default`` stage
    serves from the root, so the API's routes follow this URL directly, as they follow AWS's."""
    return f"{endpoint}/_aws/execute-api/{api_id}"


def note_http_api_url(*, deployed: str, local: str, bridges: Bridges) -> None:
    bridges.note(f"api: HttpApi ApiEndpoint {deployed} (SSM webhooks-api-url) called at {local}")


def _variables(lambda_client: Any, name: str) -> dict[str, str]:
    config = lambda_client.get_function_configuration(FunctionName=name)
    return dict(config.get("Environment", {}).get("Variables", {}))


def _set_variables(lambda_client: Any, name: str, values: dict[str, str]) -> dict[str, str]:
    """Sets some environment variables of a function, keeping the others; returns what they were
    (``unset`` for a variable the function did not have)."""
    variables = _variables(lambda_client, name)
    before = {key: variables.get(key, "unset") for key in values}
    variables.update(values)
    lambda_client.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    return before


# The local stage's value (serverless.yml params.local.webhooksAllowedUrls).
LOCAL_RECEIVERS = "http://127.0.0.1:*"


def allow_local_receivers(lambda_client: Any, *, functions: list[str], bridges: Bridges) -> None:
    """Deployed stages allow no private URL (WEBHOOKS_ALLOWED_URLS is empty): the SSRF rules refuse
    anything but https to public addresses, at creation (webhooksApi) and at connect time
    (webhooksDeliver). The rehearsal's receiver listens on 127.0.0.1, so both functions get the
    local stage's value, which lets exactly that host through."""
    for name in functions:
        deployed = _variables(lambda_client, name).get("WEBHOOKS_ALLOWED_URLS", "")
        if deployed:  # a deployed stage that allows private URLs is a finding, not something to bridge
            raise RuntimeError(f"{name}: WEBHOOKS_ALLOWED_URLS is {deployed!r} as deployed, not empty")
        _set_variables(lambda_client, name, {"WEBHOOKS_ALLOWED_URLS": LOCAL_RECEIVERS})
        bridges.note(f"function {name}: WEBHOOKS_ALLOWED_URLS '' -> {LOCAL_RECEIVERS} (the receiver on 127.0.0.1)")


def point_webhooks_at_django_stand_in(
    lambda_client: Any, *, functions: list[str], stand_in: str, issuer: str, bridges: Bridges
) -> None:
    """The webhooks functions find Django at SSM ``api-base-url`` (``https://{api}.execute-api…/{stage}``):
    its JWKS verifies every access token the API is called with, and a ``result_url`` is read from
    it. The Django function runs outside MiniStack here, behind a stand-in for its API Gateway on
    127.0.0.1 (django_gateway.py). API_BASE_URL names the stand-in; AUTH_ISSUER keeps the issuer
    the tokens name, so ``iss`` is checked as on AWS."""
    for name in functions:
        before = _set_variables(lambda_client, name, {"API_BASE_URL": stand_in, "AUTH_ISSUER": issuer})
        bridges.note(
            f"function {name}: API_BASE_URL {before['API_BASE_URL']} (SSM api-base-url {issuer}) -> {stand_in}"
            f" (a stand-in for the Django function's API Gateway); AUTH_ISSUER -> {issuer}"
        )


def note_node_runtime(lambda_client: Any, *, functions: list[str], bridges: Bridges) -> None:
    """MiniStack runs a ``nodejs*`` function with the ``node`` on its PATH, whatever its version."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node not found: MiniStack cannot run the webhooks functions")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    for name in functions:
        runtime = lambda_client.get_function_configuration(FunctionName=name)["Runtime"]
        bridges.note(f"runtime: MiniStack runs {name} ({runtime}) with this machine's node {version.strip()}")


# The journey submits a sample task (countdown), which the deployed settings do not install
# (django_app/demo is for the local stack and the tests): the rehearsal names its module, as a team
# trying a stage with the sample tasks would (docs/settings.md, JOBS_EXTRA_TASK_MODULES).
SAMPLE_TASK_MODULES = "django_app.demo.tasks"


def add_sample_tasks(lambda_client: Any, *, function: str, bridges: Bridges) -> None:
    """Sets JOBS_EXTRA_TASK_MODULES on a deployed function that runs tasks (the worker)."""
    _set_variables(lambda_client, function, {"JOBS_EXTRA_TASK_MODULES": SAMPLE_TASK_MODULES})
    bridges.note(f"function {function}: JOBS_EXTRA_TASK_MODULES={SAMPLE_TASK_MODULES} (the journey's sample task)")
