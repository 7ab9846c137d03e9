"""Smoke test of the benchmark tools: generate three templates, time the native engine on them."""

from __future__ import annotations

import json

from benchmarks.generate import generate
from benchmarks.run import main, templates_in


def test_the_generator_writes_templates_idp_scan_recognises(tmp_path):
    counts = generate(tmp_path, templates=3, resources=6, terraform=1, accounts=1)
    assert counts == {"templates": 3, "resources": 18, "terraform_modules": 1, "account_files": 1}
    assert [p.name for p in templates_in(tmp_path)] == ["stack00000.yaml", "stack00001.yaml", "stack00002.yaml"]
    assert (tmp_path / "terraform" / "module0000" / "main.tf").is_file()


def test_the_runner_times_cold_warm_and_one_file(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["--templates", "3", "--terraform", "0", "--accounts", "0", "--engines", "native",
                 "--no-baselines", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [row["name"] for row in report["rows"]] == ["idp-scan cold", "idp-scan warm", "idp-scan one file"]
    assert all(row["exit_code"] in (0, 1) and row["cpu"] > 0 for row in report["rows"])
    assert "idp-scan warm" in capsys.readouterr().out


def test_the_terraform_init_benchmark_serves_the_top_root_from_the_cache(tmp_path, monkeypatch):
    from benchmarks.terraform_init import run

    monkeypatch.delenv("IDP_SCAN_CACHE_DIR")
    report = run(2, "native")
    assert [(row["name"], row["exit_code"], row["cache"]) for row in report["rows"]] == [
        ("cold, before terraform init", 1, {"cache.load.misses": 3.0}),
        ("cold, after terraform init", 1, {"cache.load.misses": 3.0}),
        ("warm, after terraform init", 1, {"cache.load.hits": 3.0}),
    ]


def test_the_ratios_compare_idp_scan_with_each_tool_alone_both_and_the_older_install():
    from benchmarks.run import Measurement, ratios

    rows = [Measurement("idp-scan cold", "", 30.0, 50.0, 400.0, 1), Measurement("idp-scan warm", "", 2.0, 2.0, 80.0, 1),
            Measurement("before cold", "", 60.0, 100.0, 300.0, 1), Measurement("before warm", "", 4.0, 4.0, 80.0, 1),
            Measurement("checkov", "", 40.0, 40.0, 500.0, 1), Measurement("cfn-lint", "", 20.0, 25.0, 200.0, 1)]
    got = ratios(rows)
    assert got["cold wall / checkov"] == 0.75
    assert got["cold peak / checkov"] == 0.8
    assert got["cold wall / cfn-lint"] == 1.5
    assert got["cold wall / checkov + cfn-lint"] == 0.5
    assert got["cold cpu / checkov + cfn-lint"] == 50.0 / 65.0
    assert got["cold wall / before cold"] == 0.5
    assert got["warm wall / before warm"] == 0.5
    assert "cold wall / before warm" not in got and "warm wall / before cold" not in got
    assert "cold peak / checkov + cfn-lint" not in got


def test_the_pairs_report_the_median_of_each_pairs_ratio():
    from benchmarks.pairs import summary
    from benchmarks.run import Measurement

    def pair(ours: float, theirs: float, before: float) -> dict[str, Measurement]:
        return {"idp-scan": Measurement("idp-scan cold", "", ours, ours, 300.0, 1),
                "checkov": Measurement("checkov", "", theirs, theirs, 400.0, 1),
                "before": Measurement("before cold", "", before, before, 300.0, 1)}

    # A slow moment slows both sides of its pair: the ratios, not the times, are compared.
    got = summary([pair(30.0, 40.0, 60.0), pair(45.0, 50.0, 90.0), pair(20.0, 25.0, 40.0)])
    assert got["median idp-scan / checkov"] == 0.8
    assert (got["lowest"], got["highest"]) == (0.75, 0.9)
    assert got["median idp-scan / before"] == 0.5
