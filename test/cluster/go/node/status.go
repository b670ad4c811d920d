package node

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// podStatus is the part of a pod's status that the node owns.
type podStatus struct {
	phase         corev1.PodPhase
	reason        string
	message       string
	conditions    []corev1.PodCondition
	initStatuses  []corev1.ContainerStatus
	statuses      []corev1.ContainerStatus
	startTime     metav1.Time
	hostIP, podIP string
}

func (w *podWorker) containerStatus(c *container) corev1.ContainerStatus {
	running := c.state.Running != nil
	ready := running && !c.init
	if c.init {
		ready = c.state.Terminated != nil && c.state.Terminated.ExitCode == 0
	}
	return corev1.ContainerStatus{
		Name:                 c.spec.Name,
		State:                *c.state.DeepCopy(),
		LastTerminationState: *c.lastState.DeepCopy(),
		Ready:                ready,
		RestartCount:         c.restartCount,
		Image:                c.spec.Image,
		ImageID:              "",
		ContainerID:          c.containerID,
		Started:              ptr.To(running),
	}
}

// computeStatus derives the phase and conditions from the containers, as a kubelet does.
func (w *podWorker) computeStatus() podStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := podStatus{startTime: w.startTime, hostIP: w.a.cfg.Address, podIP: w.a.cfg.Address}
	for _, c := range w.initCtrs {
		st.initStatuses = append(st.initStatuses, w.containerStatus(c))
	}
	allFinal, allSucceeded, anyStarted, allRunning := true, true, false, true
	for _, c := range w.ctrs {
		st.statuses = append(st.statuses, w.containerStatus(c))
		if !c.final {
			allFinal = false
		}
		if t := c.state.Terminated; t == nil || t.ExitCode != 0 {
			allSucceeded = false
		}
		if c.everStarted {
			anyStarted = true
		}
		if c.state.Running == nil {
			allRunning = false
		}
	}
	initFailed := false
	for _, c := range w.initCtrs {
		if c.final && (c.state.Terminated == nil || c.state.Terminated.ExitCode != 0) {
			initFailed = true
		}
	}
	switch {
	case w.forcedFailed && allFinal:
		st.phase, st.reason, st.message = corev1.PodFailed, w.stopReason, w.stopMessage
	case initFailed && allFinal:
		st.phase = corev1.PodFailed
	case allFinal && len(w.ctrs) > 0 && (w.initDone || w.stopping):
		if allSucceeded {
			st.phase = corev1.PodSucceeded
		} else {
			st.phase = corev1.PodFailed
		}
	case anyStarted:
		st.phase = corev1.PodRunning
	default:
		st.phase = corev1.PodPending
	}
	terminal := st.phase == corev1.PodSucceeded || st.phase == corev1.PodFailed
	b := func(v bool) corev1.ConditionStatus {
		if v {
			return corev1.ConditionTrue
		}
		return corev1.ConditionFalse
	}
	ready := allRunning && !terminal && w.initDone
	cond := func(t corev1.PodConditionType, v bool, reason string) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: b(v), Reason: reason}
	}
	notReadyReason := ""
	if !ready {
		notReadyReason = "ContainersNotReady"
		if terminal {
			notReadyReason = "PodCompleted"
		}
	}
	initReason := ""
	if !w.initDone {
		initReason = "ContainersNotInitialized"
	}
	if terminal && len(w.initCtrs) > 0 && !initFailed {
		initReason = "PodCompleted"
	}
	st.conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, w.mounts != nil && !terminal, ""),
		cond(corev1.PodInitialized, w.initDone, initReason),
		cond(corev1.ContainersReady, ready, notReadyReason),
		cond(corev1.PodReady, ready, notReadyReason),
	}
	return st
}

// statusRetryFor is how long sync keeps trying to write a status while the API server does not
// answer (a restart takes several seconds); a kubelet's status manager never gives up either.
const statusRetryFor = 5 * time.Minute

// sync writes the current status to the API server, retrying on conflicts and, with backoff, while
// the API server is unreachable: a status that is never written leaves its pod running for ever.
func (w *podWorker) sync() {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	pod := w.pod.DeepCopy()
	w.mu.Unlock()
	backoff := 200 * time.Millisecond
	wait := func() {
		time.Sleep(backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
	for deadline, fresh := time.Now().Add(statusRetryFor), false; time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.writeStatus(ctx, &pod, &fresh)
		cancel()
		switch {
		case err == nil:
			return
		case apierrors.IsConflict(err):
			fresh = true
		default:
			klog.ErrorS(err, "writing pod status; retrying", "pod", klog.KRef(w.ns, w.nm))
			fresh = true
			wait()
		}
	}
	klog.ErrorS(nil, "gave up writing pod status", "pod", klog.KRef(w.ns, w.nm), "after", statusRetryFor)
}

// writeStatus writes the status as it is now onto the pod (read again first when `fresh` says the
// copy held is stale). A nil error means done: written, or nothing left to write.
func (w *podWorker) writeStatus(ctx context.Context, pod **corev1.Pod, fresh *bool) error {
	if *fresh {
		latest, err := w.a.client.CoreV1().Pods(w.ns).Get(ctx, w.nm, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil // gone: nothing to write
		}
		if err != nil {
			return err
		}
		if latest.UID != w.uid {
			return nil // replaced by a pod of the same name
		}
		*pod, *fresh = latest, false
	}
	st := w.computeStatus()
	old := (*pod).Status.Phase
	if (old == corev1.PodSucceeded || old == corev1.PodFailed) && old != st.phase {
		return nil // a terminal phase is never left
	}
	w.apply(*pod, st)
	_, err := w.a.client.CoreV1().Pods(w.ns).UpdateStatus(ctx, *pod, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func (w *podWorker) apply(pod *corev1.Pod, st podStatus) {
	now := metav1.Now()
	s := &pod.Status
	s.Phase, s.Reason, s.Message = st.phase, st.reason, st.message
	s.HostIP, s.PodIP = st.hostIP, st.podIP
	s.HostIPs = []corev1.HostIP{{IP: st.hostIP}}
	s.PodIPs = []corev1.PodIP{{IP: st.podIP}}
	s.StartTime = ptr.To(st.startTime)
	s.InitContainerStatuses = st.initStatuses
	s.ContainerStatuses = st.statuses
	for _, c := range st.conditions {
		found := false
		for i := range s.Conditions {
			if s.Conditions[i].Type != c.Type {
				continue
			}
			found = true
			if s.Conditions[i].Status != c.Status {
				s.Conditions[i].LastTransitionTime = now
			}
			s.Conditions[i].Status, s.Conditions[i].Reason = c.Status, c.Reason
		}
		if !found {
			c.LastTransitionTime = now
			s.Conditions = append(s.Conditions, c)
		}
	}
}
