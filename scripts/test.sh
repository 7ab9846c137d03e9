#!/usr/bin/env bash
# Set up and run the whole test suite: the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# Microsoft's SARIF validator (GitHub's rules), from npm; its binary ships without the x bit.
if command -v npm >/dev/null 2>&1; then
  npm install --no-audit --no-fund --no-package-lock --silent >/dev/null
  chmod +x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool 2>/dev/null || true
fi

# The bundled rules must ship in the wheel: install it (not editable) into a fresh venv
# and list the rules from another directory.
wheel_venv=$(mktemp -d)
python3 -m venv "$wheel_venv"
"$wheel_venv/bin/python" -m pip install -q .
(cd "$wheel_venv" && "$wheel_venv/bin/idp-scan" rules list | grep -q '^IDP-NET-001 ') \
  || { echo "installed wheel does not list the bundled rules" >&2; exit 1; }
# ... and the account schemas: a request missing its fields must be reported from the wheel too.
printf 'accounts:\n  - name: wheel-check\n    email: a@corp.example\n' > "$wheel_venv/account.yaml"
(cd "$wheel_venv" && "$wheel_venv/bin/idp-scan" scan account.yaml --engines schema --format json || true) | grep -q '"IDP-ACCT-001"' \
  || { echo "installed wheel does not check account requests" >&2; exit 1; }
rm -rf "$wheel_venv"

.venv/bin/python -m mypy
.venv/bin/python -m pytest "$@"
