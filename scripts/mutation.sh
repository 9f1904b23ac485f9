#!/usr/bin/env bash
# Mutation testing (StrykerJS, vitest runner) of the pure-TypeScript layers: src/io,
# src/data, src/train and the float64 references src/kernels/*.ref.ts (stryker.config.json).
# Slow (each mutant re-runs the tests that cover it), so not part of `npm test`.
#
#   bash scripts/mutation.sh                      # everything in stryker.config.json's "mutate"
#   bash scripts/mutation.sh src/data/byo.ts      # one file or glob (comma-separated for several)
#   CONCURRENCY=2 bash scripts/mutation.sh src/io # more test processes (default 1)
#   STRYKER_TESTS=src/data/byo.test.ts,src/data/byo.prop.test.ts bash scripts/mutation.sh src/data/byo.ts
#                                                 # only these tests (stryker.vitest.config.ts)
#   MUTATION_NAME=io bash scripts/mutation.sh src/io  # reports and temp folder of its own (runs side by side)
#
# Reports: the clear-text table on stdout, test-results/mutation/mutation.{json,html}.
# Record scores in docs/TESTING.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
args=(--concurrency "${CONCURRENCY:-1}")
if [ $# -gt 0 ]; then
  target="$1"
  # A folder means every non-test .ts file under it.
  if [ -d "$target" ]; then target="${target%/}/**/*.ts,!${target%/}/**/*.test.ts"; fi
  args+=(--mutate "$target")
fi
# The API, not the `stryker` command: the command refuses Node < 22 (see scripts/mutation.mjs).
exec node scripts/mutation.mjs "${args[@]}"
