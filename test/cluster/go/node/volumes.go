package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// prepareVolumes writes every volume of the pod under its folder and returns their host paths.
func (w *podWorker) prepareVolumes(ctx context.Context) (map[string]string, error) {
	w.mu.Lock()
	pod := w.pod.DeepCopy()
	w.mu.Unlock()
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(w.dir, "volumes", v.Name)
		var files map[string]fileContent
		var err error
		switch {
		case v.EmptyDir != nil:
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, err
			}
			_ = os.Chmod(dir, 0o777)
			out[v.Name] = dir
			continue
		case v.HostPath != nil:
			t := ptr.Deref(v.HostPath.Type, corev1.HostPathUnset)
			if t == corev1.HostPathDirectoryOrCreate {
				if err := os.MkdirAll(v.HostPath.Path, 0o755); err != nil {
					return nil, err
				}
			}
			out[v.Name] = v.HostPath.Path
			continue
		case v.Secret != nil:
			files, err = w.secretFiles(ctx, pod, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, v.Secret.DefaultMode)
		case v.ConfigMap != nil:
			files, err = w.configMapFiles(ctx, pod, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, v.ConfigMap.DefaultMode)
		case v.DownwardAPI != nil:
			files, err = w.downwardFiles(pod, v.DownwardAPI.Items, v.DownwardAPI.DefaultMode)
		case v.Projected != nil:
			files = map[string]fileContent{}
			for _, src := range v.Projected.Sources {
				var part map[string]fileContent
				switch {
				case src.Secret != nil:
					part, err = w.secretFiles(ctx, pod, src.Secret.Name, src.Secret.Items, src.Secret.Optional, v.Projected.DefaultMode)
				case src.ConfigMap != nil:
					part, err = w.configMapFiles(ctx, pod, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, v.Projected.DefaultMode)
				case src.DownwardAPI != nil:
					part, err = w.downwardFiles(pod, src.DownwardAPI.Items, v.Projected.DefaultMode)
				case src.ServiceAccountToken != nil:
					part, err = w.tokenFile(ctx, pod, src.ServiceAccountToken, v.Projected.DefaultMode)
				default:
					err = fmt.Errorf("kw-node does not support this projected volume source")
				}
				if err != nil {
					break
				}
				for k, f := range part {
					files[k] = f
				}
			}
		default:
			err = fmt.Errorf("kw-node does not support the type of this volume")
		}
		if err != nil {
			return nil, fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", v.Name, err)
		}
		if err := writeFiles(dir, files); err != nil {
			return nil, fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", v.Name, err)
		}
		out[v.Name] = dir
	}
	return out, nil
}

type fileContent struct {
	data []byte
	mode os.FileMode
}

func fileMode(item *int32, def *int32) os.FileMode {
	if item != nil {
		return os.FileMode(*item)
	}
	if def != nil {
		return os.FileMode(*def)
	}
	return 0o644
}

func keyFiles(data map[string][]byte, items []corev1.KeyToPath, defMode *int32, kind, name string) (map[string]fileContent, error) {
	out := map[string]fileContent{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = fileContent{v, fileMode(nil, defMode)}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return nil, fmt.Errorf("configuration error: %s %q has no key %q", kind, name, it.Key)
		}
		out[it.Path] = fileContent{v, fileMode(it.Mode, defMode)}
	}
	return out, nil
}

func (w *podWorker) secretFiles(ctx context.Context, pod *corev1.Pod, name string, items []corev1.KeyToPath, optional *bool, defMode *int32) (map[string]fileContent, error) {
	s, err := w.a.client.CoreV1().Secrets(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && ptr.Deref(optional, false) {
		return map[string]fileContent{}, nil
	}
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("secret %q not found", name)
		}
		return nil, err
	}
	return keyFiles(s.Data, items, defMode, "secret", name)
}

func (w *podWorker) configMapFiles(ctx context.Context, pod *corev1.Pod, name string, items []corev1.KeyToPath, optional *bool, defMode *int32) (map[string]fileContent, error) {
	cm, err := w.a.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && ptr.Deref(optional, false) {
		return map[string]fileContent{}, nil
	}
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("configmap %q not found", name)
		}
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles(data, items, defMode, "configmap", name)
}

func (w *podWorker) downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defMode *int32) (map[string]fileContent, error) {
	out := map[string]fileContent{}
	for _, it := range items {
		var val string
		var err error
		switch {
		case it.FieldRef != nil:
			val, err = fieldValue(pod, it.FieldRef.FieldPath, w.a.cfg.Address)
		case it.ResourceFieldRef != nil:
			val, err = w.resourceValue(pod, "", it.ResourceFieldRef)
		}
		if err != nil {
			return nil, err
		}
		out[it.Path] = fileContent{[]byte(val), fileMode(it.Mode, defMode)}
	}
	return out, nil
}

func (w *podWorker) tokenFile(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection, defMode *int32) (map[string]fileContent, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	tr, err := w.a.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("requesting a token for service account %q: %w", sa, err)
	}
	mode := fileMode(nil, defMode)
	if defMode == nil {
		mode = 0o600
	}
	return map[string]fileContent{src.Path: {[]byte(tr.Status.Token), mode}}, nil
}

// writeFiles replaces dir's content by files.
func writeFiles(dir string, files map[string]fileContent) error {
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for p, f := range files {
		clean := filepath.Clean("/" + p)
		if strings.Contains(p, "..") && clean != "/"+p {
			return fmt.Errorf("invalid path %q", p)
		}
		full := filepath.Join(dir, clean)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.data, f.mode.Perm()); err != nil {
			return err
		}
		_ = os.Chmod(full, f.mode.Perm())
	}
	return nil
}

// fieldValue resolves a downward-API field path.
func fieldValue(pod *corev1.Pod, path, hostIP string) (string, error) {
	mapValue := func(m map[string]string) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%q\n", k, m[k])
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	subscript := func(prefix string) (string, bool) {
		if strings.HasPrefix(path, prefix+"['") && strings.HasSuffix(path, "']") {
			return path[len(prefix)+2 : len(path)-2], true
		}
		return "", false
	}
	if k, ok := subscript("metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript("metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return mapValue(pod.Labels), nil
	case "metadata.annotations":
		return mapValue(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.podIP", "status.hostIPs", "status.podIPs":
		return hostIP, nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

// resourceValue resolves a resourceFieldRef: a limit falls back to the node's allocatable.
func (w *podWorker) resourceValue(pod *corev1.Pod, defaultContainer string, ref *corev1.ResourceFieldSelector) (string, error) {
	name := ref.ContainerName
	if name == "" {
		name = defaultContainer
	}
	var ctr *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			ctr = &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			ctr = &pod.Spec.InitContainers[i]
		}
	}
	if ctr == nil {
		return "", fmt.Errorf("resourceFieldRef: no container %q", name)
	}
	kind, res, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("unsupported resource %q", ref.Resource)
	}
	rn := corev1.ResourceName(res)
	alloc := map[corev1.ResourceName]interface{ MilliValue() int64 }{
		corev1.ResourceCPU: &w.a.cfg.CPU, corev1.ResourceMemory: &w.a.cfg.Memory, corev1.ResourceEphemeralStorage: &w.a.cfg.EphemeralStorage,
	}
	var milli int64
	if q, ok := ctr.Resources.Limits[rn]; ok && kind == "limits" {
		milli = q.MilliValue()
	} else if q, ok := ctr.Resources.Requests[rn]; ok && kind == "requests" {
		milli = q.MilliValue()
	} else if a, ok := alloc[rn]; ok && kind == "limits" {
		milli = a.MilliValue()
	} else if kind == "requests" && rn != corev1.ResourceCPU {
		milli = 0
	} else if kind == "requests" {
		milli = 0
	} else {
		return "", fmt.Errorf("unsupported resource %q", ref.Resource)
	}
	div := int64(1000)
	if !ref.Divisor.IsZero() {
		div = ref.Divisor.MilliValue()
	}
	v := (milli + div - 1) / div
	if rn == corev1.ResourceCPU && v < 1 && kind == "limits" {
		v = 1
	}
	return fmt.Sprint(v), nil
}
