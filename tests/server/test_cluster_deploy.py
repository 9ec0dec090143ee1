"""The deployment kit for several machines reads right: deploy/compose.yaml and its nginx config.

Docker is not run here (this machine has none); the compose file is parsed and checked for the
services and variables docs/HOSTING.md names, and its nginx config for the same stickiness and
websocket lines as the one-machine config that tests/server/test_deploy.py runs.
"""

from __future__ import annotations

import pytest

from tests.server.services import ROOT

yaml = pytest.importorskip("yaml", reason="PyYAML comes with ray (requirements-dev.txt)")
COMPOSE = ROOT / "deploy" / "compose.yaml"


def test_the_compose_file_has_every_piece_and_wires_them() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert set(services) == {"db", "ray-head", "ray-worker", "app", "nginx"}
    app = services["app"]
    assert app["environment"]["CONVLAB_DATABASE_URL"].startswith("postgresql://convlab:")
    assert app["environment"]["CONVLAB_DATABASE_URL"].endswith("@db:5432/convlab")
    assert app["environment"]["CONVLAB_RAY_ADDRESS"] == "ray-head:6379"
    assert app["environment"]["CONVLAB_PROCESSES"] == "1"  # one process per container; --scale app=N
    assert "--head" in services["ray-head"]["command"] and "--port=6379" in services["ray-head"]["command"]
    assert "ray start --address=" in " ".join(services["ray-worker"]["command"])
    for name in ("app", "ray-head", "ray-worker"):  # one image: the same code and Ray on every node
        assert services[name]["build"]["args"]["CLUSTER"] == "1" and services[name]["image"] == "convlab-cluster"
    for name in ("app", "ray-head", "ray-worker"):  # all alike, or the app cannot talk to the head
        assert services[name]["environment"]["RAY_AUTH_MODE"] == "disabled"
    assert services["nginx"]["ports"] == ["80:80"]
    assert "requirements-cluster.txt" in (ROOT / "Dockerfile").read_text()
    assert "ray==" in (ROOT / "requirements-cluster.txt").read_text()
    assert "ray" not in (ROOT / "requirements.txt").read_text()  # a laptop install stays small


def test_the_compose_nginx_config_keeps_the_stickiness_lines() -> None:
    compose_conf = (ROOT / "deploy" / "nginx-compose.conf").read_text()
    single = (ROOT / "deploy" / "nginx-convlab.conf").read_text()
    for line in (
        "hash $convlab_sticky consistent;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_read_timeout 1h;",
        '""      $request_id;',
    ):
        assert line in compose_conf and line in single, line
    assert "server app:8501;" in compose_conf
