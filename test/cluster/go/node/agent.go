package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

type agent struct {
	cfg      Config
	client   kubernetes.Interface
	recorder record.EventRecorder
	pods     *podManager
	nodeUID  types.UID
}

func newAgent(cfg Config, client kubernetes.Interface) (*agent, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, err
	}
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	rec := b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: cfg.NodeName})
	a := &agent{cfg: cfg, client: client, recorder: rec}
	a.pods = newPodManager(a)
	return a, nil
}

func (a *agent) run(ctx context.Context) error {
	// Serve the kubelet API first so the apiserver can reach logs as soon as pods run.
	srvErr := make(chan error, 1)
	srv, err := a.kubeletServer()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(a.cfg.Address, strconv.Itoa(a.cfg.Port)))
	if err != nil {
		return fmt.Errorf("kubelet port: %w", err)
	}
	go func() { srvErr <- srv.ServeTLS(ln, "", "") }()
	defer srv.Close()

	if err := a.registerNode(ctx); err != nil {
		return err
	}
	a.recorder.Eventf(a.nodeRef(), corev1.EventTypeNormal, "Starting", "Starting kw-node.")
	go a.leaseLoop(ctx)
	go a.statusLoop(ctx)

	factory := informers.NewSharedInformerFactoryWithOptions(a.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = "spec.nodeName=" + a.cfg.NodeName
		}))
	inf := factory.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { a.pods.observe(obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj any) { a.pods.observe(obj.(*corev1.Pod)) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				a.pods.forget(p)
			}
		},
	})
	factory.Start(ctx.Done())
	klog.InfoS("node agent running", "node", a.cfg.NodeName, "kubeletPort", a.cfg.Port)
	select {
	case <-ctx.Done():
		return nil
	case err := <-srvErr:
		return fmt.Errorf("kubelet server: %w", err)
	}
}

func (a *agent) nodeRef() *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: a.cfg.NodeName, UID: types.UID(a.cfg.NodeName)}
}

func (a *agent) kubeletServer() (*http.Server, error) {
	var cert tls.Certificate
	var err error
	if a.cfg.TLSCert != "" {
		cert, err = tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
	} else {
		cert, err = selfSignedCert(a.cfg.NodeName)
	}
	if err != nil {
		return nil, fmt.Errorf("kubelet TLS: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/containerLogs/{namespace}/{pod}/{container}", a.pods.serveLogs)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "kw-node does not implement "+r.URL.Path+" (only /containerLogs and /healthz)", http.StatusNotImplemented)
	})
	return &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}, nil
}

func selfSignedCert(name string) (tls.Certificate, error) {
	kp, err := newCert(nil, pkixName(name), []string{"localhost", name}, []net.IP{net.ParseIP("127.0.0.1")}, false)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{kp.cert.Raw}, PrivateKey: kp.key}, nil
}

func (a *agent) nodeConditions(now metav1.Time) []corev1.NodeCondition {
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
	}
}

func (a *agent) nodeStatus(now metav1.Time) corev1.NodeStatus {
	res := corev1.ResourceList{
		corev1.ResourceCPU:              a.cfg.CPU,
		corev1.ResourceMemory:           a.cfg.Memory,
		corev1.ResourcePods:             a.cfg.Pods,
		corev1.ResourceEphemeralStorage: a.cfg.EphemeralStorage,
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = string(trimNL(b))
	}
	return corev1.NodeStatus{
		Capacity:    res,
		Allocatable: res.DeepCopy(),
		Phase:       corev1.NodeRunning,
		Conditions:  a.nodeConditions(now),
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: a.cfg.Address},
			{Type: corev1.NodeHostName, Address: a.cfg.NodeName},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(a.cfg.Port)}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               a.cfg.NodeName,
			SystemUUID:              a.cfg.NodeName,
			BootID:                  strconv.FormatInt(time.Now().UnixNano(), 10),
			KernelVersion:           kernel,
			OSImage:                 "kube-worker test node (pods run as local processes)",
			ContainerRuntimeVersion: "kw-process://1",
			KubeletVersion:          a.cfg.KubeletVersion,
			OperatingSystem:         "linux",
			Architecture:            runtime.GOARCH,
		},
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func (a *agent) registerNode(ctx context.Context) error {
	now := metav1.Now()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: a.cfg.NodeName,
			Labels: map[string]string{
				"kubernetes.io/hostname": a.cfg.NodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     runtime.GOARCH,
				"kube-worker.io/node":    "process",
			},
		},
		Status: a.nodeStatus(now),
	}
	var lastErr error
	for i := 0; i < 120; i++ {
		created, err := a.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			created, err = a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		}
		if err == nil {
			a.nodeUID = created.UID
			created.Status = a.nodeStatus(now)
			if _, err = a.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err == nil {
				klog.InfoS("node registered", "node", a.cfg.NodeName)
				return nil
			}
		}
		lastErr = err
		klog.InfoS("registering node", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("could not register node: %w", lastErr)
}

func (a *agent) leaseLoop(ctx context.Context) {
	leases := a.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	for {
		now := metav1.NewMicroTime(time.Now())
		lease, err := leases.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			lease = &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{
					Name: a.cfg.NodeName, Namespace: corev1.NamespaceNodeLease,
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: a.cfg.NodeName, UID: a.nodeUID}},
				},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(a.cfg.NodeName), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now},
			}
			_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		case err == nil:
			lease.Spec.HolderIdentity = ptr.To(a.cfg.NodeName)
			lease.Spec.LeaseDurationSeconds = ptr.To[int32](40)
			lease.Spec.RenewTime = &now
			_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		}
		if err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "renewing node lease")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// statusLoop re-posts the Node's status once a minute (the Lease is the frequent heartbeat).
func (a *agent) statusLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
		node, err := a.client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if err != nil {
			klog.ErrorS(err, "getting node")
			continue
		}
		now := metav1.Now()
		st := a.nodeStatus(now)
		// Keep transition times of unchanged conditions.
		for i, c := range st.Conditions {
			for _, old := range node.Status.Conditions {
				if old.Type == c.Type && old.Status == c.Status {
					st.Conditions[i].LastTransitionTime = old.LastTransitionTime
				}
			}
		}
		st.NodeInfo.BootID = node.Status.NodeInfo.BootID
		node.Status = st
		if _, err := a.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			klog.ErrorS(err, "updating node status")
		}
	}
}
