#!/usr/bin/env bash
# Set up idp-scan and scan the bundled non-compliant example (exits 1: it blocks).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q -e .
.venv/bin/idp-scan scan fixtures/examples/noncompliant "$@"
