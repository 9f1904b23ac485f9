#!/usr/bin/env bash
# npm test: the whole suite from a fresh clone on a fresh Debian machine.
#   1. installs what the system lacks (Debian's chromium, which carries SwiftShader, and the
#      Vulkan loader libvulkan1 that Dawn-in-Node needs), and npm dependencies;
#   2. typecheck, Vitest (kernels and engine in Node on Dawn), Playwright (the app and the
#      kernel checks in headless Chromium on SwiftShader WebGPU);
#   3. prints "N passed, N failed" over all suites and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || need_apt+=(libvulkan1)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[test] installing system packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null \
    || { echo "[test] could not install ${need_apt[*]} with apt-get: install them and re-run"; exit 1; }
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[test] installing npm dependencies"
  npm ci --no-audit --no-fund || { echo "[test] npm ci failed"; exit 1; }
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
mkdir -p test-results
rm -f test-results/vitest.json test-results/playwright.json

status=0
typecheck_failed=0
echo "[test] typecheck"
npx tsc -p tsconfig.json --noEmit || { typecheck_failed=1; status=1; }

echo "[test] unit and kernel tests (Vitest, Node + Dawn)"
npx vitest run || status=1

echo "[test] end-to-end tests (Playwright, Chromium + SwiftShader WebGPU)"
npx playwright test || status=1

node scripts/summary.mjs "$typecheck_failed"
exit $status
