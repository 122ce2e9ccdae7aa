#!/usr/bin/env bash
# install-browser-tools.sh: what the browser tests (tests/cli/ui_browser.sh)
# need: Debian's chromium and node/npm (scripts/install-deps.sh --browser),
# and playwright-core from npm, installed with `npm ci` in tests/browser/ from
# the committed package.json and package-lock.json (node_modules/ is not
# committed). Idempotent: a second run with nothing to do takes well under a
# second. Playwright's own browser downloads are not used: the tests drive
# /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --browser
dir=tests/browser
stamp=$dir/node_modules/.package-lock.json
if [ -f "$dir/node_modules/playwright-core/package.json" ] && [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ]; then
	exit 0
fi
echo "install-browser-tools.sh: npm ci in $dir (playwright-core)"
(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
