// Package node is the test cluster's node agent. It registers a Node with a finite capacity, keeps
// its Lease fresh, runs every pod bound to it as local processes (one process group per container,
// in a private mount namespace holding the pod's volumes), reports pod status the way a kubelet
// does, and serves container logs on the kubelet port over TLS.
package node

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// Config is the node agent's configuration.
type Config struct {
	Kubeconfig         string
	NodeName           string
	StateDir           string
	Address            string
	Port               int
	TLSCert, TLSKey    string
	CPU, Memory, Pods  resource.Quantity
	EphemeralStorage   resource.Quantity
	UnpullableSuffixes []string
	APIServerHost      string
	APIServerPort      string
	KubeletVersion     string
}

// Main runs the subcommand named by args[0].
func Main(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: kw-node run|pki [flags]")
		return 2
	}
	switch args[0] {
	case "run":
		return runAgent(args[1:])
	case "pki":
		return runPKI(args[1:])
	case execHelperArg:
		return execHelper()
	case "__probe-mountns":
		return probeMountNS()
	default:
		fmt.Fprintln(os.Stderr, "usage: kw-node run|pki [flags]")
		return 2
	}
}

func runAgent(args []string) int {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	var cfg Config
	var cpu, mem, pods, storage, unpullable string
	fs.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "kubeconfig of the node identity (system:node:NAME)")
	fs.StringVar(&cfg.NodeName, "node-name", "kw-node", "Node name")
	fs.StringVar(&cfg.StateDir, "state-dir", "", "folder for pod volumes and container logs")
	fs.StringVar(&cfg.Address, "address", "127.0.0.1", "address of the kubelet API and the node's InternalIP")
	fs.IntVar(&cfg.Port, "port", 16250, "kubelet API port (TLS)")
	fs.StringVar(&cfg.TLSCert, "tls-cert-file", "", "kubelet serving certificate")
	fs.StringVar(&cfg.TLSKey, "tls-private-key-file", "", "kubelet serving key")
	fs.StringVar(&cpu, "cpu", "4", "CPU capacity")
	fs.StringVar(&mem, "memory", "8Gi", "memory capacity")
	fs.StringVar(&pods, "pods", "110", "pod capacity")
	fs.StringVar(&storage, "ephemeral-storage", "20Gi", "ephemeral-storage capacity")
	fs.StringVar(&unpullable, "unpullable-registry-suffixes", ".invalid", "comma-separated registry host suffixes whose images fail to pull")
	fs.StringVar(&cfg.APIServerHost, "apiserver-host", "127.0.0.1", "KUBERNETES_SERVICE_HOST given to pods")
	fs.StringVar(&cfg.APIServerPort, "apiserver-port", "16443", "KUBERNETES_SERVICE_PORT given to pods")
	fs.StringVar(&cfg.KubeletVersion, "kubelet-version", "v0.0.0", "version reported in the Node's nodeInfo")
	_ = fs.Parse(args)
	var err error
	for _, q := range []struct {
		s string
		d *resource.Quantity
	}{{cpu, &cfg.CPU}, {mem, &cfg.Memory}, {pods, &cfg.Pods}, {storage, &cfg.EphemeralStorage}} {
		if *q.d, err = resource.ParseQuantity(q.s); err != nil {
			fmt.Fprintln(os.Stderr, "invalid quantity:", q.s, err)
			return 2
		}
	}
	for _, s := range strings.Split(unpullable, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.UnpullableSuffixes = append(cfg.UnpullableSuffixes, s)
		}
	}
	if cfg.StateDir == "" {
		fmt.Fprintln(os.Stderr, "--state-dir is required")
		return 2
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		return 1
	}
	restCfg.QPS, restCfg.Burst = 50, 100
	restCfg.UserAgent = "kw-node/" + cfg.KubeletVersion
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	agent, err := newAgent(cfg, client)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := agent.run(ctx); err != nil {
		klog.ErrorS(err, "node agent stopped")
		return 1
	}
	// Stop every pod still running before exiting.
	agent.pods.stopAll(5 * time.Second)
	return 0
}
