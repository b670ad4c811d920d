// Command kwnode is a multi-call binary holding the test cluster's node and its set-up:
//
//	kwnode kubelet ...      (the kubelet)
//	kwnode kube-proxy ...   (kube-proxy)
//	kwnode pki ...          (certificates and kubeconfigs of every component)
//	kwnode sweep ...        (removes every pod sandbox from a CRI runtime, for cluster:down)
//
// It is also selected by the name it is called by (a symlink named kubelet, kube-proxy, ...).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"

	"kube-worker/test/cluster/pki"
	"kube-worker/test/cluster/sweep"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kwnode kubelet|kube-proxy|pki|sweep [flags]")
	os.Exit(2)
}

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if name == "kwnode" {
		if len(args) == 0 {
			usage()
		}
		name, args = args[0], args[1:]
	}
	// Commands parse os.Args[1:] themselves; present them as if called by their own name.
	os.Args = append([]string{name}, args...)
	switch name {
	case "kubelet":
		os.Exit(cli.Run(kubelet.NewKubeletCommand(context.Background())))
	case "kube-proxy":
		os.Exit(cli.Run(proxy.NewProxyCommand()))
	case "pki":
		os.Exit(pki.Run(args))
	case "sweep":
		os.Exit(sweep.Run(args))
	default:
		usage()
	}
}
