#!/usr/bin/env bash
# The benchmark's load generator: Debian's wrk (a client far lighter than the server).
set -eu
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
