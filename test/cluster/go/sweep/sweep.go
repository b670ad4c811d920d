// Package sweep removes every pod sandbox from a CRI runtime. The kubelet does not stop pods when
// it exits, so cluster:down stops it first and then has the runtime tear every pod down: its
// containers are killed, its network (CNI DEL) and its mounts are released, as `crictl rmp -fa`
// does.
package sweep

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Run is `kwnode sweep --endpoint unix:///path/to/containerd.sock`.
func Run(args []string) int {
	fs := flag.NewFlagSet("sweep", flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "CRI endpoint, unix:///path/to/socket")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	_ = fs.Parse(args)
	if *endpoint == "" {
		fmt.Fprintln(os.Stderr, "sweep: --endpoint is required")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	n, err := sweep(ctx, *endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sweep:", err)
		return 1
	}
	fmt.Printf("removed %d pod sandboxes\n", n)
	return 0
}

func sweep(ctx context.Context, endpoint string) (int, error) {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close() }()
	client := runtime.NewRuntimeServiceClient(conn)
	list, err := client.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil {
		return 0, err
	}
	for _, s := range list.Items {
		// Stop first: it kills the containers and releases the network; Remove alone refuses a
		// ready sandbox.
		if _, err := client.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			return 0, fmt.Errorf("stopping sandbox %s (%s/%s): %w", s.Id, s.Metadata.GetNamespace(), s.Metadata.GetName(), err)
		}
		if _, err := client.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			return 0, fmt.Errorf("removing sandbox %s: %w", s.Id, err)
		}
	}
	return len(list.Items), nil
}
