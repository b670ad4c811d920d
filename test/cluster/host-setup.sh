#!/usr/bin/env bash
# Installs, from Debian's packages, what the test cluster's node needs on this machine: a container
# runtime (containerd, runc), the CNI plugins of the pod network, and the iptables kube-proxy and
# the pod network program. Does nothing when everything is there.
set -euo pipefail

missing=()
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null || missing+=(iptables)
command -v ip >/dev/null || missing+=(iproute2)
# KEDA's and kwok's Go modules are unpacked from their zips (test/support/go-module.ts).
command -v unzip >/dev/null || missing+=(unzip)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "[host-setup] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
