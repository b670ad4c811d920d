package node

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// execHelperArg is the hidden subcommand a container process starts as: the node agent re-executes
// itself in a new mount namespace (and process group), receives the container's spec on fd 3,
// bind-mounts the pod's volumes at their mountPaths, switches user, changes directory and finally
// execs the container's command, which thus keeps the helper's pid.
const execHelperArg = "__exec-container"

type mountSpec struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

type execSpec struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
	// Mounts are bind mounts done inside the container's private mount namespace.
	Mounts []mountSpec `json:"mounts"`
	// Symlinks replaces bind mounts where mount namespaces are not available.
	Symlinks bool    `json:"symlinks,omitempty"`
	UID      *int64  `json:"uid,omitempty"`
	GID      *int64  `json:"gid,omitempty"`
	Groups   []int64 `json:"groups,omitempty"`
	Umask    *int    `json:"umask,omitempty"`
}

func execHelper() int {
	f := os.NewFile(3, "spec")
	var spec execSpec
	err := json.NewDecoder(f).Decode(&spec)
	_ = f.Close()
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "kw-node: "+format+"\n", args...)
		return 127
	}
	if err != nil {
		return fail("reading container spec: %v", err)
	}
	if !spec.Symlinks {
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			return fail("making mounts private: %v", err)
		}
	}
	// Parents before children, so a mount inside another mount's target lands on top of it.
	sort.SliceStable(spec.Mounts, func(i, j int) bool {
		return strings.Count(filepath.Clean(spec.Mounts[i].Target), "/") < strings.Count(filepath.Clean(spec.Mounts[j].Target), "/")
	})
	for _, m := range spec.Mounts {
		if err := mountOne(m, spec.Symlinks); err != nil {
			return fail("mounting %s at %s: %v", m.Source, m.Target, err)
		}
	}
	if len(spec.Groups) > 0 || spec.GID != nil {
		groups := make([]int, 0, len(spec.Groups))
		for _, g := range spec.Groups {
			groups = append(groups, int(g))
		}
		if err := syscall.Setgroups(groups); err != nil {
			return fail("setgroups: %v", err)
		}
	}
	if spec.GID != nil {
		if err := syscall.Setgid(int(*spec.GID)); err != nil {
			return fail("setgid: %v", err)
		}
	}
	if spec.UID != nil {
		if err := syscall.Setuid(int(*spec.UID)); err != nil {
			return fail("setuid: %v", err)
		}
	}
	dir := spec.Dir
	if dir == "" {
		dir = "/"
	}
	_ = os.MkdirAll(dir, 0o755)
	if err := os.Chdir(dir); err != nil {
		return fail("working directory %s: %v", dir, err)
	}
	if len(spec.Argv) == 0 {
		return fail("no command")
	}
	path, err := lookPath(spec.Argv[0], spec.Env)
	if err != nil {
		return fail("%v", err)
	}
	err = syscall.Exec(path, spec.Argv, spec.Env)
	return fail("exec %s: %v", path, err)
}

func mountOne(m mountSpec, symlinks bool) error {
	st, err := os.Stat(m.Source)
	if err != nil {
		return err
	}
	if symlinks {
		if err := os.MkdirAll(filepath.Dir(m.Target), 0o755); err != nil {
			return err
		}
		if cur, err := os.Readlink(m.Target); err == nil && cur == m.Source {
			return nil
		}
		_ = os.Remove(m.Target) // only succeeds for an empty directory or a link
		return os.Symlink(m.Source, m.Target)
	}
	if st.IsDir() {
		if err := os.MkdirAll(m.Target, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(m.Target), 0o755); err != nil {
			return err
		}
		if _, err := os.Stat(m.Target); os.IsNotExist(err) {
			f, err := os.OpenFile(m.Target, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_ = f.Close()
		}
	}
	if err := syscall.Mount(m.Source, m.Target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return err
	}
	if m.ReadOnly {
		return syscall.Mount("", m.Target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, "")
	}
	return nil
}

func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := defaultPath
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			path = e[5:]
		}
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// mountNamespacesWork tells whether a child can be started in a new mount namespace and make its
// mounts private (root with CAP_SYS_ADMIN, no seccomp filter forbidding it).
func mountNamespacesWork() bool {
	self, err := os.Executable()
	if err != nil {
		return false
	}
	cmd := exec.Command(self, "__probe-mountns")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	return cmd.Run() == nil
}

func probeMountNS() int {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return 1
	}
	dir, err := os.MkdirTemp("", "kw-node-probe")
	if err != nil {
		return 1
	}
	defer os.Remove(dir)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1k"); err != nil {
		return 1
	}
	_ = syscall.Unmount(dir, 0)
	return 0
}
