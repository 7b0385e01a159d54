#!/bin/sh
# The scripted live runs of ptyx-gui (the GUI benchmark of docs/PERFORMANCE.md and
# packaging/screenshot.sh) as a maintainer starts them: they run, print their figures or save
# their picture, and when a run cannot start they say why on stderr and exit 1, never waiting on
# a dialog. Usage: scripted_run_test.sh PTYX PTYX_GUI (under Xvfb, in the test's directory).
set -u
ptyx=$1
gui=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

"$ptyx" simulate --frames 32 --size 32 --seed 2 -o scan.cxi > /dev/null || fail "simulate"

"$gui" --bench-live --run 8 --backend cpu scan.cxi > bench.out 2> bench.err
rc=$?
cat bench.out
[ "$rc" -eq 0 ] || fail "--bench-live exited $rc: $(cat bench.err)"
grep -q '^computed on: cpu$' bench.out || fail "the benchmark does not say it computed on the cpu"
grep -q '^iterations: 8 in ' bench.out || fail "the benchmark did not run 8 iterations"
grep -q 'view updates (object view frames): [1-9]' bench.out || fail "no view was updated"

rm -f shot.png
"$gui" --screenshot shot.png --run 4 scan.cxi > shot.out 2> shot.err || fail "--screenshot: $(cat shot.err)"
head -c 8 shot.png | od -An -c | grep -q 'P   N   G' || fail "shot.png is not a PNG"

"$gui" --bench-live --run 8 --backend gpu scan.cxi > bad.out 2> bad.err
rc=$?
[ "$rc" -eq 1 ] || fail "an unknown backend exited $rc"
grep -q 'Unknown compute backend "gpu"' bad.err || fail "an unknown backend is not named: $(cat bad.err)"

if "$ptyx" devices | grep -q '^device 0'; then
  echo "a GPU is present: the refusal of --backend cuda without one is not checked here"
  exit 0
fi
"$gui" --bench-live --run 8 --backend cuda scan.cxi > cuda.out 2> cuda.err
rc=$?
[ "$rc" -eq 1 ] || fail "--backend cuda without a GPU exited $rc"
grep -q 'the run did not start: backend: cuda: not available: no usable CUDA device' cuda.err ||
  fail "the refusal does not say why: $(cat cuda.err)"
echo "scripted runs: ok"
