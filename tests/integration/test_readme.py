"""The README's Python example runs as written, and its commands are the ones CI runs."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) >= 2, "the README has its Python examples"
    monkeypatch.chdir(ROOT)
    spaces = []
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own docs
        spaces.append(namespace)
    found = {k: v for ns in spaces for k, v in ns.items()}
    assert found["traj"].n_objects == 3
    assert found["result"].engagements.num_rows >= 1
    (ROOT / "engagements.parquet").unlink(missing_ok=True)


def test_ci_runs_the_readme_test_command():
    out = subprocess.run(
        ["awk", "/<!-- test-command -->/{getline; getline; print; exit}", "README.md"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert "pytest" in out and out.startswith("python3 -m venv .venv")
    assert "README.md" in (ROOT / ".ci" / "run").read_text()


def test_scenario_example_is_valid():
    import yaml

    from hyperdef.scenario import parse_scenario

    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
    assert blocks, "the README shows the scenario format"
    scenario = parse_scenario(yaml.safe_load(blocks[0]), "README.md")
    assert scenario.fusion is not None and scenario.links
