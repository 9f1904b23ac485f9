#!/usr/bin/env bash
# npm run bench: all benchmarks side by side on one adapter (lavapipe when installed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
exec npx tsx src/bench/main.ts "$@"
