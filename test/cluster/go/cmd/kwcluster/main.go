// Command kwcluster is a multi-call binary holding every process of the test cluster:
//
//	kwcluster apiserver ...           (kube-apiserver)
//	kwcluster controller-manager ...  (kube-controller-manager)
//	kwcluster scheduler ...           (kube-scheduler)
//	kwcluster etcd ...                (etcd)
//	kwcluster kubectl ...             (kubectl)
//
// It is also selected by the name it is called by (a symlink named kube-apiserver, etcd, ...).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "time/tzdata" // for CronJob time zone support

	"go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // kubectl's client auth plugins
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kwcluster apiserver|controller-manager|scheduler|etcd [flags]")
	os.Exit(2)
}

func main() {
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	args := os.Args[1:]
	if name == "kwcluster" {
		if len(args) == 0 {
			usage()
		}
		name, args = args[0], args[1:]
	}
	// Commands parse os.Args[1:] themselves; present them as if called by their own name.
	os.Args = append([]string{name}, args...)
	switch name {
	case "apiserver", "kube-apiserver":
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "controller-manager", "kube-controller-manager":
		os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
	case "scheduler", "kube-scheduler":
		os.Exit(cli.Run(scheduler.NewSchedulerCommand()))
	case "etcd":
		etcdmain.Main(os.Args)
	case "kubectl":
		_, _ = logs.GlogSetter(kubectl.GetLogVerbosity(os.Args))
		if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
	default:
		usage()
	}
}
