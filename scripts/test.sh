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
  # cfn-guard 3.1.1 and the Control Tower rules (engine guard): its conformance tests must run, not skip.
  .venv/bin/python -c 'from pathlib import Path; from scanner.engines.cfn_guard_binary import find_binary, version; print(version(find_binary(None, [Path(".")])))'
fi

# The bundled rules must ship in the wheel: install it (not editable) into a fresh venv
# and list the rules from another directory.
wheel_venv=$(mktemp -d)
python3 -m venv "$wheel_venv"
"$wheel_venv/bin/python" -m pip install -q .
# (output captured first: `grep -q` exits at the first match, and pipefail would then see SIGPIPE)
listing=$(cd "$wheel_venv" && "$wheel_venv/bin/idp-scan" rules list)
grep -q '^IDP-NET-001 ' <<<"$listing" || { echo "installed wheel does not list the bundled rules" >&2; exit 1; }
# ... and the account schemas: a request missing its fields must be reported from the wheel too.
printf 'accounts:\n  - name: wheel-check\n    email: a@corp.example\n' > "$wheel_venv/account.yaml"
report=$(cd "$wheel_venv" && "$wheel_venv/bin/idp-scan" scan account.yaml --engines schema --format json || true)
grep -q '"IDP-ACCT-001"' <<<"$report" || { echo "installed wheel does not check account requests" >&2; exit 1; }
# The README's worked example: an organisation's rule pack, installed by pip, found by entry point.
"$wheel_venv/bin/python" -m pip install -q --no-deps ./examples/acme-rules
listing=$(cd "$wheel_venv" && "$wheel_venv/bin/idp-scan" rules list)
grep -q '^ACME-S3-001 ' <<<"$listing" || { echo "installed example rule pack is not listed" >&2; exit 1; }
rm -rf "$wheel_venv"

.venv/bin/python -m mypy
.venv/bin/python -m pytest "$@"
