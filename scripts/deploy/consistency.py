#!/usr/bin/env python3
"""Cross-file checks for scripts/deploy-checks.sh: the deployment files agree.

Schema validators see one file at a time; these checks catch drift between files:
  * every NLPD_<SECTION>__<KEY> variable the deployment files and docs name is a setting
    in config/default.toml (the service refuses unknown ones at start-up);
  * docker-compose.yml renders config/nginx.conf with exactly the template's placeholders,
    all of them set, and mounts that file;
  * Prometheus scrapes exactly the replicas the balancer balances;
  * the compose stop grace and the Kubernetes termination grace outlast the drain
    (Kubernetes: preStop sleep + shutdown grace) so SIGKILL never cuts a drain short;
  * the Kubernetes probes, scrape annotations and Service use the container's port.

Usage: consistency.py REPO_ROOT   (prints one line per check; exit status 1 on failure)
"""

import re
import sys
import tomllib
from pathlib import Path

import yaml

PLACEHOLDER = re.compile(r"\$\{(NLPD_LB_[A-Z0-9_]*)\}")
SETTING_VARIABLE = re.compile(r"\bNLPD_([A-Z0-9]+)__([A-Z0-9_]+)\b")
FILES_NAMING_SETTINGS = ("Dockerfile", "docker-compose.yml", "deploy/kubernetes/*.yaml",
                         "docs/deployment.md")


def seconds(duration):
    """Compose durations such as "30s" or "1m30s" in seconds."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(duration))
    if not parts or not any(parts.groups()):
        raise ValueError(f"unsupported duration {duration!r}")
    return int(parts[1] or 0) * 60 + int(parts[2] or 0)


def env_list(container):
    return {item["name"]: item.get("value") for item in container.get("env", [])}


def settings_checks(root):
    defaults = tomllib.loads((root / "config/default.toml").read_text())
    for pattern in FILES_NAMING_SETTINGS:
        for path in sorted(root.glob(pattern)):
            unknown = sorted(
                {
                    f"NLPD_{section}__{key}"
                    for section, key in SETTING_VARIABLE.findall(path.read_text())
                    if key.lower() not in defaults.get(section.lower(), {})
                }
            )
            name = path.relative_to(root)
            yield f"{name} names only real settings", not unknown, unknown


def compose_checks(root):
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    services = compose["services"]
    template = (root / "config/nginx.conf").read_text()
    placeholders = set(PLACEHOLDER.findall(template))

    lb = services["lb"]
    lb_env = {k: v for k, v in lb["environment"].items() if k.startswith("NLPD_LB_")}
    rendered = set(PLACEHOLDER.findall(" ".join(lb["command"]).replace("$$", "$")))
    yield "compose sets every nginx.conf placeholder", placeholders == set(lb_env), (
        f"template {sorted(placeholders)} vs environment {sorted(lb_env)}"
    )
    yield "compose renders exactly the placeholders", rendered == placeholders, (
        f"envsubst list {sorted(rendered)} vs template {sorted(placeholders)}"
    )
    yield "compose mounts config/nginx.conf", any(
        v.startswith("./config/nginx.conf:") for v in lb["volumes"]
    ), lb["volumes"]

    upstreams = {v for k, v in lb_env.items() if k.startswith("NLPD_LB_UPSTREAM_")}
    prometheus = yaml.safe_load((root / "config/prometheus.yml").read_text())
    targets = {
        target
        for job in prometheus["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    yield "Prometheus scrapes every balanced replica", targets == upstreams, (
        f"targets {sorted(targets)} vs upstreams {sorted(upstreams)}"
    )
    replicas = {u.split(":")[0] for u in upstreams}
    yield "every upstream is a compose service", replicas <= set(services), sorted(replicas)

    for name in sorted(replicas & set(services)):
        service = services[name]
        grace = int(service["environment"]["NLPD_SERVER__SHUTDOWN_GRACE_SECS"])
        stop = seconds(service["stop_grace_period"])
        yield f"{name}: stop_grace_period outlasts the drain", stop > grace, (
            f"stop_grace_period {stop}s vs shutdown grace {grace}s"
        )
        # nginx resolves upstream names once: a replica must come back on the same address.
        fixed = [
            net.get("ipv4_address")
            for net in (service.get("networks") or {}).values()
            if isinstance(net, dict)
        ]
        yield f"{name}: keeps a fixed address across restarts", any(fixed), service.get("networks")


def kubernetes_checks(root):
    docs = {}
    for path in sorted((root / "deploy/kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            docs[doc["kind"]] = doc
    pod = docs["Deployment"]["spec"]["template"]
    container = pod["spec"]["containers"][0]
    env = env_list(container)
    grace = int(env["NLPD_SERVER__SHUTDOWN_GRACE_SECS"])
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    sleep = int(pre_stop[1]) if pre_stop[0] == "sleep" else 0
    termination = pod["spec"]["terminationGracePeriodSeconds"]
    yield "k8s: termination grace outlasts preStop + drain", termination > sleep + grace, (
        f"terminationGracePeriodSeconds {termination} vs preStop {sleep}s + drain {grace}s"
    )

    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    listen_port = int(env["NLPD_SERVER__LISTEN"].rsplit(":", 1)[1])
    yield "k8s: the container listens on its declared port", ports.get("http") == listen_port, (
        f"NLPD_SERVER__LISTEN {listen_port} vs port http {ports.get('http')}"
    )
    probes = {
        kind: container[kind]["httpGet"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    yield "k8s: probes use /healthz (liveness) and /readyz (readiness)", (
        probes["livenessProbe"]["path"] == "/healthz"
        and probes["readinessProbe"]["path"] == "/readyz"
        and all(p["port"] == "http" for p in probes.values())
    ), probes
    annotations = pod["metadata"]["annotations"]
    yield "k8s: scrape annotations name the port", (
        annotations.get("prometheus.io/scrape") == "true"
        and int(annotations.get("prometheus.io/port", 0)) == listen_port
    ), annotations
    service_port = docs["Service"]["spec"]["ports"][0]["targetPort"]
    yield "k8s: the Service targets the container port", service_port in (
        "http",
        listen_port,
    ), service_port
    selector = docs["Deployment"]["spec"]["selector"]["matchLabels"]
    for kind in ("Service", "PodDisruptionBudget"):
        spec = docs[kind]["spec"]
        chosen = spec["selector"].get("matchLabels", spec["selector"])
        yield f"k8s: the {kind} selects the Deployment's pods", chosen == selector, chosen
    target = docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    yield "k8s: the HPA scales the Deployment", (
        target["kind"] == "Deployment"
        and target["name"] == docs["Deployment"]["metadata"]["name"]
    ), target


def main():
    root = Path(sys.argv[1])
    failed = 0
    for name, ok, detail in [
        *settings_checks(root),
        *compose_checks(root),
        *kubernetes_checks(root),
    ]:
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"))
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
