#!/bin/sh
# Regenerate the golden outputs of tests/golden/ from its saved traces:
# `concscope report TRACE` (terminal, 100 columns, no colour) and its --json.
# Run this only when an output changed on purpose, and say why in the commit.
#   tools/golden.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
bin="${1:-build}/concscope"
for trace in tests/golden/*.pftrace; do
	base="${trace%.pftrace}"
	COLUMNS=100 NO_COLOR=1 "$bin" report "$trace" --color never --json "$base.json.tmp" \
		> "$base.txt.tmp"
	mv "$base.txt.tmp" "$base.txt"
	mv "$base.json.tmp" "$base.json"
	echo "tools/golden.sh: $base.txt and $base.json"
done
