"""configs/cluster/tfjob.yaml against the TFJob (kubeflow.org/v1) structure, offline.

What is checked: the fields the training operator requires or reads (apiVersion,
kind, metadata.name, spec.tfReplicaSpecs.{Chief,Worker}: replicas, restartPolicy,
template.spec.containers[] named "tensorflow" with image, command and the
tfjob-port), volumes that exist for every mount, RUN_DIR on the shared volume,
one command for every pod that kerasllm's own parser accepts, and the roles the
operator's TF_CONFIG gives the pods. Not checked (needs a cluster): the
operator's admission webhook and CRD schema, image pulls, scheduling, the
ReadWriteMany claim itself.
"""
import json
import re
from pathlib import Path

import pytest
import yaml

MANIFEST = Path(__file__).resolve().parents[1] / "configs" / "cluster" / "tfjob.yaml"
ROLES = {"Chief", "Worker", "PS", "Evaluator", "Master"}
RESTART = {"Always", "OnFailure", "Never", "ExitCode"}


@pytest.fixture(scope="module")
def job():
    return yaml.safe_load(MANIFEST.read_text())


def _containers(spec):
    return spec["template"]["spec"]["containers"]


def test_tfjob_top_level(job):
    assert job["apiVersion"] == "kubeflow.org/v1" and job["kind"] == "TFJob"
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", job["metadata"]["name"])
    specs = job["spec"]["tfReplicaSpecs"]
    assert set(specs) <= ROLES and {"Chief", "Worker"} <= set(specs)
    assert specs["Chief"]["replicas"] == 1  # one writer of RUN_DIR


@pytest.mark.parametrize("role", ["Chief", "Worker"])
def test_replica_spec(job, role):
    spec = job["spec"]["tfReplicaSpecs"][role]
    assert isinstance(spec["replicas"], int) and spec["replicas"] >= 1
    assert spec["restartPolicy"] in RESTART
    containers = _containers(spec)
    main = [c for c in containers if c["name"] == "tensorflow"]
    assert len(main) == 1, "the operator finds the training container by the name 'tensorflow'"
    container = main[0]
    assert container["image"] and all(isinstance(a, str) for a in container["command"])
    assert {"containerPort": 2222, "name": "tfjob-port"} in container["ports"]
    volumes = {v["name"] for v in spec["template"]["spec"]["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert set(mounts) <= volumes
    output = container["command"][container["command"].index("--output") + 1]
    assert any(output.startswith(path.rstrip("/") + "/") for path in mounts.values()), \
        "RUN_DIR must be on the shared volume every pod mounts"


def test_every_pod_runs_one_command_kerasllm_accepts(job):
    from kerasllm.cli.main import COMMANDS, cli

    commands = [_containers(s)[0]["command"] for s in job["spec"]["tfReplicaSpecs"].values()]
    assert all(c == commands[0] for c in commands), "workers must run the chief's command"
    program, name, *args = commands[0]
    assert program == "kerasllm" and name in COMMANDS
    command = cli.get_command(None, name)
    ctx = command.make_context(name, list(args))  # click parses and type-checks every option
    assert ctx.params["output"].startswith("/runs/")


def test_operator_tf_config_roles(monkeypatch):
    """The operator names a chief and workers: only the chief writes RUN_DIR; ranks are unique."""
    from kerasllm.training.strategy import is_chief, num_workers, worker_rank

    cluster = {"chief": ["job-chief-0:2222"], "worker": [f"job-worker-{i}:2222" for i in range(3)]}
    seen = []
    for kind, index in [("chief", 0), ("worker", 0), ("worker", 1), ("worker", 2)]:
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}}))
        assert num_workers() == 4
        seen.append((is_chief(), worker_rank()))
    assert seen == [(True, 0), (False, 1), (False, 2), (False, 3)]
