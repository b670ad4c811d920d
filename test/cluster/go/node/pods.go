package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

type podManager struct {
	a        *agent
	mountNS  bool
	mu       sync.Mutex
	workers  map[types.UID]*podWorker
	byName   map[string]*podWorker
	deleting map[types.UID]bool
}

func newPodManager(a *agent) *podManager {
	m := &podManager{a: a, workers: map[types.UID]*podWorker{}, byName: map[string]*podWorker{}, deleting: map[types.UID]bool{}}
	m.mountNS = mountNamespacesWork()
	if !m.mountNS {
		klog.InfoS("mount namespaces are not available: volumes are symlinked at their mountPath instead")
	}
	return m
}

// observe is called for every add/update of a pod bound to this node.
func (m *podManager) observe(pod *corev1.Pod) {
	m.mu.Lock()
	w := m.workers[pod.UID]
	if w != nil {
		m.mu.Unlock()
		w.update(pod)
		return
	}
	terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	switch {
	case pod.DeletionTimestamp != nil:
		// Nothing runs for this pod here: complete the deletion, as a kubelet does.
		first := !m.deleting[pod.UID]
		m.deleting[pod.UID] = true
		m.mu.Unlock()
		if first {
			go m.a.deletePodNow(pod)
		}
		return
	case terminal:
		m.mu.Unlock()
		return
	case pod.Status.StartTime != nil:
		// Started by an earlier run of this agent: its processes are gone.
		m.mu.Unlock()
		go m.a.markLost(pod)
		return
	}
	w = newPodWorker(m, pod)
	m.workers[pod.UID] = w
	m.byName[pod.Namespace+"/"+pod.Name] = w
	m.mu.Unlock()
	go w.run()
}

// forget is called when a pod object is gone from the API.
func (m *podManager) forget(pod *corev1.Pod) {
	m.mu.Lock()
	w := m.workers[pod.UID]
	delete(m.workers, pod.UID)
	delete(m.deleting, pod.UID)
	if m.byName[pod.Namespace+"/"+pod.Name] == w {
		delete(m.byName, pod.Namespace+"/"+pod.Name)
	}
	m.mu.Unlock()
	if w == nil {
		return
	}
	go func() {
		w.requestStop(0, "", "")
		<-w.done
		_ = os.RemoveAll(w.dir)
	}()
}

func (m *podManager) lookup(ns, name string) *podWorker {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byName[ns+"/"+name]
}

func (m *podManager) stopAll(grace time.Duration) {
	m.mu.Lock()
	ws := make([]*podWorker, 0, len(m.workers))
	for _, w := range m.workers {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	for _, w := range ws {
		w.requestStop(grace, "", "")
	}
	for _, w := range ws {
		select {
		case <-w.done:
		case <-time.After(grace + 2*time.Second):
		}
	}
}

func (a *agent) deletePodNow(pod *corev1.Pod) {
	err := a.client.CoreV1().Pods(pod.Namespace).Delete(context.Background(), pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: ptr.To(pod.UID)},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		klog.ErrorS(err, "deleting pod", "pod", klog.KObj(pod))
	}
}

func (a *agent) markLost(pod *corev1.Pod) {
	p := pod.DeepCopy()
	now := metav1.Now()
	p.Status.Phase = corev1.PodFailed
	p.Status.Reason = "NodeAgentRestarted"
	p.Status.Message = "The node agent restarted while the pod was running; its processes are gone"
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		if cs.State.Terminated == nil {
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 137, Reason: "ContainerStatusUnknown", Message: "The container could not be located when the pod was terminated", FinishedAt: now,
			}}
			cs.Ready = false
			cs.Started = ptr.To(false)
		}
	}
	if _, err := a.client.CoreV1().Pods(p.Namespace).UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		klog.ErrorS(err, "marking lost pod failed", "pod", klog.KObj(pod))
	}
}

// ---------------------------------------------------------------------------------------------

type container struct {
	spec         corev1.Container
	init         bool
	restartCount int32
	state        corev1.ContainerState
	lastState    corev1.ContainerState
	everStarted  bool
	final        bool // will not run again
	pulled       bool
	pgid         int
	running      bool
	runDone      chan struct{} // closed when the current run (process and log copy) has ended
	containerID  string
}

type podWorker struct {
	m   *podManager
	a   *agent
	uid types.UID
	ns  string
	nm  string
	dir string

	mu           sync.Mutex
	pod          *corev1.Pod
	startTime    metav1.Time
	initCtrs     []*container
	ctrs         []*container
	initDone     bool
	stopping     bool
	stopReason   string
	stopMessage  string
	forcedFailed bool
	finished     bool
	deleteSent   bool
	stopCh       chan struct{}
	stopOnce     sync.Once
	graceCh      chan time.Duration
	done         chan struct{}
	syncMu       sync.Mutex
	conditionsAt map[corev1.PodConditionType]metav1.Time
	mounts       map[string]string // volume name -> host path
}

func newPodWorker(m *podManager, pod *corev1.Pod) *podWorker {
	w := &podWorker{
		m: m, a: m.a, uid: pod.UID, ns: pod.Namespace, nm: pod.Name, pod: pod.DeepCopy(),
		dir:          filepath.Join(m.a.cfg.StateDir, "pods", string(pod.UID)),
		stopCh:       make(chan struct{}),
		graceCh:      make(chan time.Duration, 1),
		done:         make(chan struct{}),
		conditionsAt: map[corev1.PodConditionType]metav1.Time{},
	}
	waiting := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
	for _, c := range pod.Spec.InitContainers {
		w.initCtrs = append(w.initCtrs, &container{spec: c, init: true, state: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}})
	}
	if len(pod.Spec.InitContainers) == 0 {
		waiting = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	}
	for _, c := range pod.Spec.Containers {
		w.ctrs = append(w.ctrs, &container{spec: c, state: waiting})
	}
	return w
}

func (w *podWorker) ref() *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: w.ns, Name: w.nm, UID: w.uid}
}

func (w *podWorker) fieldRef(c *container) *corev1.ObjectReference {
	r := w.ref()
	if c.init {
		r.FieldPath = fmt.Sprintf("spec.initContainers{%s}", c.spec.Name)
	} else {
		r.FieldPath = fmt.Sprintf("spec.containers{%s}", c.spec.Name)
	}
	return r
}

func (w *podWorker) event(c *container, typ, reason, format string, args ...any) {
	ref := w.ref()
	if c != nil {
		ref = w.fieldRef(c)
	}
	w.a.recorder.Eventf(ref, typ, reason, format, args...)
}

func (w *podWorker) update(pod *corev1.Pod) {
	w.mu.Lock()
	w.pod = pod.DeepCopy()
	del := pod.DeletionTimestamp != nil && w.finished && !w.deleteSent
	w.deleteSent = w.deleteSent || del
	w.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		grace := time.Duration(ptr.Deref(pod.DeletionGracePeriodSeconds, 30)) * time.Second
		w.requestStop(grace, "", "")
	}
	if del {
		go w.a.deletePodNow(pod)
	}
}

func (w *podWorker) isStopping() bool {
	select {
	case <-w.stopCh:
		return true
	default:
		return false
	}
}

// requestStop ends the pod: running processes get SIGTERM, then SIGKILL after grace.
func (w *podWorker) requestStop(grace time.Duration, reason, message string) {
	w.mu.Lock()
	if reason != "" && !w.stopping {
		w.stopReason, w.stopMessage, w.forcedFailed = reason, message, true
	}
	w.stopping = true
	w.mu.Unlock()
	w.stopOnce.Do(func() {
		close(w.stopCh)
		w.killAll(grace)
	})
}

func (w *podWorker) killAll(grace time.Duration) {
	w.mu.Lock()
	var running []*container
	for _, c := range append(append([]*container{}, w.initCtrs...), w.ctrs...) {
		if c.running {
			running = append(running, c)
		}
	}
	w.mu.Unlock()
	for _, c := range running {
		w.event(c, corev1.EventTypeNormal, "Killing", "Stopping container %s", c.spec.Name)
		go killGroup(c.pgid, grace, c.runDone)
	}
}

func killGroup(pgid int, grace time.Duration, done <-chan struct{}) {
	if pgid <= 0 {
		return
	}
	if grace > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func (w *podWorker) sleep(d time.Duration) bool {
	select {
	case <-w.stopCh:
		return false
	case <-time.After(d):
		return true
	}
}

func (w *podWorker) run() {
	defer close(w.done)
	w.mu.Lock()
	w.startTime = metav1.Now()
	pod := w.pod
	w.mu.Unlock()
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		klog.ErrorS(err, "pod folder")
	}
	w.sync()
	if ads := pod.Spec.ActiveDeadlineSeconds; ads != nil {
		go func() {
			if w.sleep(time.Duration(*ads) * time.Second) {
				w.event(nil, corev1.EventTypeNormal, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
				w.requestStop(w.terminationGrace(), "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
			}
		}()
	}
	// Volumes.
	for backoff := time.Second; ; backoff = min(backoff*2, 30*time.Second) {
		mounts, err := w.prepareVolumes(context.Background())
		if err == nil {
			w.mu.Lock()
			w.mounts = mounts
			w.mu.Unlock()
			break
		}
		w.event(nil, corev1.EventTypeWarning, "FailedMount", "%v", err)
		if !w.sleep(backoff) {
			w.finish()
			return
		}
	}
	// Init containers, one after the other.
	policy := pod.Spec.RestartPolicy
	for _, c := range w.initCtrs {
		for backoff := 10 * time.Second; ; backoff = min(backoff*2, 5*time.Minute) {
			exit, ran := w.runOnce(c)
			if !ran || w.isStopping() {
				w.finish()
				return
			}
			if exit == 0 {
				break
			}
			if policy == corev1.RestartPolicyNever {
				w.mu.Lock()
				for _, cc := range w.ctrs {
					cc.final = true
				}
				c.final = true
				w.mu.Unlock()
				w.finish()
				return
			}
			if !w.crashBackoff(c, backoff) {
				w.finish()
				return
			}
		}
		w.mu.Lock()
		c.final = true
		w.mu.Unlock()
	}
	w.mu.Lock()
	w.initDone = true
	for _, c := range w.ctrs {
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range w.ctrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.containerLoop(c, policy)
		}()
	}
	wg.Wait()
	w.finish()
}

func (w *podWorker) terminationGrace() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Duration(ptr.Deref(w.pod.Spec.TerminationGracePeriodSeconds, 30)) * time.Second
}

func (w *podWorker) containerLoop(c *container, policy corev1.RestartPolicy) {
	for backoff := 10 * time.Second; ; backoff = min(backoff*2, 5*time.Minute) {
		exit, ran := w.runOnce(c)
		restart := ran && !w.isStopping() &&
			(policy == corev1.RestartPolicyAlways || (policy == corev1.RestartPolicyOnFailure && exit != 0))
		if !restart {
			w.mu.Lock()
			c.final = true
			w.mu.Unlock()
			w.sync()
			return
		}
		if !w.crashBackoff(c, backoff) {
			w.mu.Lock()
			c.final = true
			w.mu.Unlock()
			return
		}
	}
}

func (w *podWorker) crashBackoff(c *container, backoff time.Duration) bool {
	msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", backoff, c.spec.Name, w.nm, w.ns, w.uid)
	w.mu.Lock()
	c.lastState = c.state
	c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: msg}}
	w.mu.Unlock()
	w.event(c, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", c.spec.Name, w.nm, w.ns, w.uid)
	w.sync()
	if !w.sleep(backoff) {
		return false
	}
	w.mu.Lock()
	c.restartCount++
	w.mu.Unlock()
	return true
}

func (w *podWorker) setWaiting(c *container, reason, message string) {
	w.mu.Lock()
	c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
	w.mu.Unlock()
	w.sync()
}

// pull simulates the image pull: nothing is fetched, except that images on an unpullable registry
// fail with ErrImagePull and back off with ImagePullBackOff, forever, as a kubelet does.
func (w *podWorker) pull(c *container) bool {
	image := c.spec.Image
	if c.pulled {
		w.event(c, corev1.EventTypeNormal, "Pulled", "Container image %q already present on machine", image)
		return true
	}
	for backoff := 10 * time.Second; ; backoff = min(backoff*2, 5*time.Minute) {
		w.event(c, corev1.EventTypeNormal, "Pulling", "Pulling image %q", image)
		host := registryHost(image)
		unpullable := false
		for _, s := range w.a.cfg.UnpullableSuffixes {
			if strings.HasSuffix(host, s) {
				unpullable = true
			}
		}
		if !unpullable {
			w.event(c, corev1.EventTypeNormal, "Pulled", "Successfully pulled image %q in 0s (0s including waiting). Image size: 0 bytes.", image)
			c.pulled = true
			return true
		}
		msg := fmt.Sprintf("failed to pull and unpack image %q: failed to resolve reference %q: failed to do request: Head \"https://%s/v2/\": dial tcp: lookup %s: no such host", image, image, host, host)
		w.event(c, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %s", image, msg)
		w.event(c, corev1.EventTypeWarning, "Failed", "Error: ErrImagePull")
		w.setWaiting(c, "ErrImagePull", msg)
		if !w.sleep(2 * time.Second) {
			return false
		}
		w.event(c, corev1.EventTypeNormal, "BackOff", "Back-off pulling image %q", image)
		w.event(c, corev1.EventTypeWarning, "Failed", "Error: ImagePullBackOff")
		w.setWaiting(c, "ImagePullBackOff", fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", image, msg))
		if !w.sleep(backoff) {
			return false
		}
	}
}

// registryHost returns the registry host of an image reference (docker.io when it has none).
func registryHost(image string) string {
	i := strings.IndexByte(image, '/')
	if i < 0 {
		return "docker.io"
	}
	first := image[:i]
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		if j := strings.IndexByte(first, ':'); j >= 0 {
			return first[:j]
		}
		return first
	}
	return "docker.io"
}

// runOnce pulls, creates and runs one container to its end. ran is false when the pod was stopped
// before the process started.
func (w *podWorker) runOnce(c *container) (exitCode int32, ran bool) {
	if w.isStopping() || !w.pull(c) {
		return 0, false
	}
	var spec *execSpec
	for backoff := time.Second; ; backoff = min(backoff*2, 30*time.Second) {
		var err error
		spec, err = w.execSpecFor(c)
		if err == nil {
			break
		}
		w.event(c, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		w.setWaiting(c, "CreateContainerConfigError", err.Error())
		if !w.sleep(backoff) {
			return 0, false
		}
	}
	if len(spec.Argv) == 0 {
		// No image: nothing to fall back on when a container names no command.
		now := metav1.Now()
		msg := "kw-node runs no images: the container must set command (or args)"
		w.event(c, corev1.EventTypeWarning, "Failed", "Error: %s", msg)
		w.mu.Lock()
		c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: msg, StartedAt: now, FinishedAt: now}}
		w.mu.Unlock()
		w.sync()
		return 128, true
	}
	return w.start(c, spec)
}

func (w *podWorker) start(c *container, spec *execSpec) (int32, bool) {
	logDir := filepath.Join(w.dir, "logs", c.spec.Name)
	_ = os.MkdirAll(logDir, 0o700)
	w.mu.Lock()
	logPath := filepath.Join(logDir, fmt.Sprintf("%d.log", c.restartCount))
	c.containerID = fmt.Sprintf("kw-process://%s-%s-%d", w.uid, c.spec.Name, c.restartCount)
	w.mu.Unlock()
	lw, err := newLogWriter(logPath)
	fail := func(err error) (int32, bool) {
		now := metav1.Now()
		w.event(c, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		w.mu.Lock()
		c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: now, FinishedAt: now, ContainerID: c.containerID}}
		w.mu.Unlock()
		w.sync()
		return 128, true
	}
	if err != nil {
		return fail(err)
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command(self, execHelperArg)
	cmd.Env = spec.Env
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{specR}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if w.m.mountNS {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNS
	} else {
		spec.Symlinks = true
	}
	runDone := make(chan struct{})
	w.mu.Lock()
	c.runDone = runDone
	w.mu.Unlock()
	err = cmd.Start()
	_ = specR.Close()
	_ = outW.Close()
	_ = errW.Close()
	if err != nil {
		_ = specW.Close()
		_ = outR.Close()
		_ = errR.Close()
		close(runDone)
		return fail(err)
	}
	_ = json.NewEncoder(specW).Encode(spec)
	_ = specW.Close()
	started := metav1.Now()
	var copiers sync.WaitGroup
	copiers.Add(2)
	go func() { defer copiers.Done(); lw.copyFrom(outR, "stdout") }()
	go func() { defer copiers.Done(); lw.copyFrom(errR, "stderr") }()
	w.mu.Lock()
	c.pgid = cmd.Process.Pid
	c.running = true
	c.everStarted = true
	c.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
	stopping := w.stopping
	w.mu.Unlock()
	w.event(c, corev1.EventTypeNormal, "Created", "Created container: %s", c.spec.Name)
	w.event(c, corev1.EventTypeNormal, "Started", "Started container %s", c.spec.Name)
	if stopping {
		go killGroup(c.pgid, w.terminationGrace(), runDone)
	}
	w.sync()

	waitErr := cmd.Wait()
	// The container ends with its main process: take the rest of its process group with it.
	_ = syscall.Kill(-c.pgid, syscall.SIGKILL)
	copied := make(chan struct{})
	go func() { copiers.Wait(); close(copied) }()
	select {
	case <-copied:
	case <-time.After(2 * time.Second): // a descendant that left the group still holds the pipes
		_ = outR.Close()
		_ = errR.Close()
		<-copied
	}
	_ = outR.Close()
	_ = errR.Close()
	lw.close()
	exit := int32(0)
	if waitErr != nil {
		exit = 128
	}
	if ps := cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Signaled():
				exit = 128 + int32(ws.Signal())
			case ws.Exited():
				exit = int32(ws.ExitStatus())
			}
		}
	}
	reason := "Completed"
	if exit != 0 {
		reason = "Error"
	}
	w.mu.Lock()
	c.running = false
	c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: exit, Reason: reason, StartedAt: started, FinishedAt: metav1.Now(), ContainerID: c.containerID,
	}}
	w.mu.Unlock()
	close(runDone)
	klog.InfoS("container exited", "pod", klog.KRef(w.ns, w.nm), "container", c.spec.Name, "exitCode", exit)
	return exit, true
}

// finish is called when no container will run again: it posts the final status and, for a pod
// being deleted, completes the deletion.
func (w *podWorker) finish() {
	now := metav1.Now()
	w.mu.Lock()
	for _, c := range append(append([]*container{}, w.initCtrs...), w.ctrs...) {
		c.final = true
		if c.state.Terminated == nil && w.stopping {
			c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 137, Reason: "ContainerStatusUnknown", Message: "The container could not be located when the pod was terminated",
				StartedAt: now, FinishedAt: now,
			}}
		}
	}
	w.mu.Unlock()
	w.sync()
	w.mu.Lock()
	w.finished = true
	del := w.pod.DeletionTimestamp != nil && !w.deleteSent
	w.deleteSent = w.deleteSent || del
	pod := w.pod
	w.mu.Unlock()
	if del {
		w.a.deletePodNow(pod)
	}
}
