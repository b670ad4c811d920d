#!/usr/bin/env bash
# What building and running the test images needs on this machine, installed from Debian and started
# when missing: a Docker engine (docker.io; dockerd started in the background, as there is no init
# system), mmdebstrap (the Debian base image), docker-compose, and the local registry on
# 127.0.0.1:16500 (docker-registry) that every image is pushed to. Idempotent: does nothing when all
# of it answers. Logs and registry storage: ~/.cache/kube-worker/images/ (KW_IMAGES_CACHE overrides).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${KW_IMAGES_CACHE:-$HOME/.cache/kube-worker/images}"
registry_addr=127.0.0.1:16500
mkdir -p "$cache"

# Debian's client matches Debian's daemon; another client on PATH may be newer than the daemon.
docker=/usr/bin/docker

missing=()
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v curl >/dev/null || missing+=(curl)
# The Go module zips some images are built from (keda).
command -v unzip >/dev/null || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

wait_for() { # what, seconds, command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "$what did not start; see its log in $cache" >&2
  return 1
}

if ! $docker info >/dev/null 2>&1; then
  # --ip: ports a container on the default network publishes without an address bind to loopback.
  setsid nohup /usr/sbin/dockerd --ip 127.0.0.1 >>"$cache/dockerd.log" 2>&1 </dev/null &
  wait_for dockerd 60 $docker info
fi

registry_answers() { curl -sf -o /dev/null "http://$registry_addr/v2/"; }
if ! registry_answers; then
  mkdir -p "$cache/registry"
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$cache/registry" \
    setsid nohup /usr/bin/docker-registry serve "$here/registry.yml" >>"$cache/registry.log" 2>&1 </dev/null &
  wait_for "the image registry on $registry_addr" 30 registry_answers
fi
