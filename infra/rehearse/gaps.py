"""What MiniStack cannot do as AWS does, and how the rehearsal bridges each gap.

Every bridge is applied to the rehearsal's copy of the packaged stack or to the deployed
emulator, never to ``serverless.yml``: what operators deploy stays exactly what osls generates.
Each one is recorded, so the rehearsal report says what was bridged.
"""

from __future__ import annotations

import json
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


# The journey submits a sample task (countdown), which the deployed settings do not install
# (django_app/demo is for the local stack and the tests): the rehearsal names its module, as a team
# trying a stage with the sample tasks would (docs/settings.md, JOBS_EXTRA_TASK_MODULES).
SAMPLE_TASK_MODULES = "django_app.demo.tasks"


def add_sample_tasks(lambda_client: Any, *, function: str, bridges: Bridges) -> None:
    """Sets JOBS_EXTRA_TASK_MODULES on a deployed function that runs tasks (the worker)."""
    config = lambda_client.get_function_configuration(FunctionName=function)
    variables = dict(config.get("Environment", {}).get("Variables", {}))
    variables["JOBS_EXTRA_TASK_MODULES"] = SAMPLE_TASK_MODULES
    lambda_client.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
    bridges.note(f"function {function}: JOBS_EXTRA_TASK_MODULES={SAMPLE_TASK_MODULES} (the journey's sample task)")
