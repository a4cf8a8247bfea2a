#!/bin/sh
# make bench: performance figures, always as ratios to baselines measured in
# the same run.  Never run by make check.
set -e
cd "$(dirname "$0")/.."
build/bench
