package node

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Container logs are kept in the CRI log format a kubelet reads:
// "<RFC3339Nano time> <stdout|stderr> <F|P> <text>\n", P marking a partial line.

type logWriter struct {
	mu sync.Mutex
	f  *os.File
}

func newLogWriter(path string) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	return &logWriter{f: f}, nil
}

func (l *logWriter) copyFrom(r io.Reader, stream string) {
	br := bufio.NewReaderSize(r, 16*1024)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			l.write(stream, "F", line[:len(line)-1])
		case len(line) > 0:
			// A line longer than the buffer, or output that ends without a newline: partial.
			l.write(stream, "P", line)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

func (l *logWriter) write(stream, tag string, line []byte) {
	var b bytes.Buffer
	b.WriteString(time.Now().UTC().Format(time.RFC3339Nano))
	b.WriteByte(' ')
	b.WriteString(stream)
	b.WriteByte(' ')
	b.WriteString(tag)
	b.WriteByte(' ')
	b.Write(line)
	b.WriteByte('\n')
	l.mu.Lock()
	_, _ = l.f.Write(b.Bytes())
	l.mu.Unlock()
}

func (l *logWriter) close() {
	l.mu.Lock()
	_ = l.f.Close()
	l.mu.Unlock()
}

type logLine struct {
	ts      time.Time
	stream  string
	partial bool
	text    []byte
}

func parseLogLine(b []byte) (logLine, bool) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	parts := bytes.SplitN(b, []byte(" "), 4)
	if len(parts) < 3 {
		return logLine{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(parts[0]))
	if err != nil {
		return logLine{}, false
	}
	l := logLine{ts: ts, stream: string(parts[1]), partial: string(parts[2]) == "P"}
	if len(parts) == 4 {
		l.text = parts[3]
	}
	return l, true
}

// serveLogs implements the kubelet's GET /containerLogs/{namespace}/{pod}/{container}
// with follow, timestamps, sinceTime, sinceSeconds, tailLines, limitBytes and previous.
func (m *podManager) serveLogs(rw http.ResponseWriter, r *http.Request) {
	ns, podName, ctrName := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	q := r.URL.Query()
	w := m.lookup(ns, podName)
	if w == nil {
		http.Error(rw, fmt.Sprintf("pod %s/%s not found on this node", ns, podName), http.StatusNotFound)
		return
	}
	w.mu.Lock()
	var c *container
	for _, cc := range append(append([]*container{}, w.initCtrs...), w.ctrs...) {
		if cc.spec.Name == ctrName {
			c = cc
		}
	}
	if c == nil {
		w.mu.Unlock()
		http.Error(rw, fmt.Sprintf("container %s is not valid for pod %s", ctrName, podName), http.StatusNotFound)
		return
	}
	run := c.restartCount
	previous, _ := strconv.ParseBool(q.Get("previous"))
	if previous {
		run--
	}
	waiting := c.state.Waiting
	everStarted := c.everStarted
	runDone := c.runDone
	isCurrentRun := !previous && c.running
	w.mu.Unlock()
	path := filepath.Join(w.dir, "logs", ctrName, fmt.Sprintf("%d.log", run))
	f, err := os.Open(path)
	if err != nil {
		if previous {
			http.Error(rw, fmt.Sprintf("previous terminated container %q in pod %q not found", ctrName, podName), http.StatusBadRequest)
			return
		}
		reason := "ContainerCreating"
		if waiting != nil {
			reason = waiting.Reason
		}
		if !everStarted {
			http.Error(rw, fmt.Sprintf("container %q in pod %q is waiting to start: %s", ctrName, podName, reason), http.StatusBadRequest)
			return
		}
		http.Error(rw, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()

	follow, _ := strconv.ParseBool(q.Get("follow"))
	timestamps, _ := strconv.ParseBool(q.Get("timestamps"))
	var since time.Time
	if s := q.Get("sinceTime"); s != "" {
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			http.Error(rw, "invalid sinceTime: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if s := q.Get("sinceSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			http.Error(rw, "invalid sinceSeconds", http.StatusBadRequest)
			return
		}
		since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	tail := int64(-1)
	if s := q.Get("tailLines"); s != "" {
		if tail, err = strconv.ParseInt(s, 10, 64); err != nil {
			http.Error(rw, "invalid tailLines", http.StatusBadRequest)
			return
		}
	}
	limit := int64(-1)
	if s := q.Get("limitBytes"); s != "" {
		if limit, err = strconv.ParseInt(s, 10, 64); err != nil {
			http.Error(rw, "invalid limitBytes", http.StatusBadRequest)
			return
		}
	}
	rw.Header().Set("Content-Type", "text/plain")
	rw.WriteHeader(http.StatusOK)
	flusher, _ := rw.(http.Flusher)
	written := int64(0)
	emit := func(l logLine) bool {
		if !since.IsZero() && l.ts.Before(since) {
			return true
		}
		var b bytes.Buffer
		if timestamps {
			b.WriteString(l.ts.Format(time.RFC3339Nano))
			b.WriteByte(' ')
		}
		b.Write(l.text)
		if !l.partial {
			b.WriteByte('\n')
		}
		out := b.Bytes()
		if limit >= 0 && written+int64(len(out)) > limit {
			out = out[:limit-written]
		}
		n, err := rw.Write(out)
		written += int64(n)
		if err != nil || (limit >= 0 && written >= limit) {
			return false
		}
		return true
	}

	br := bufio.NewReader(f)
	if tail >= 0 {
		var lines []logLine
		for {
			b, err := br.ReadBytes('\n')
			if err != nil {
				// An unterminated last line is still being written: read it again when following.
				if len(b) > 0 {
					_, _ = f.Seek(-int64(len(b)), io.SeekCurrent)
				}
				break
			}
			if l, ok := parseLogLine(b); ok {
				lines = append(lines, l)
				if int64(len(lines)) > tail {
					lines = lines[1:]
				}
			}
		}
		for _, l := range lines {
			if !emit(l) {
				return
			}
		}
		br.Reset(f)
	}
	var pending []byte
	for {
		b, err := br.ReadBytes('\n')
		if err == nil {
			b = append(pending, b...)
			pending = nil
			if l, ok := parseLogLine(b); ok && !emit(l) {
				return
			}
			continue
		}
		pending = append(pending, b...)
		if !follow {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		// At the end of the file: stop when the container's run is over, else wait for more.
		finished := !isCurrentRun
		if runDone != nil && !finished {
			select {
			case <-runDone:
				finished = true
			default:
			}
		}
		if finished {
			// Read what was written between the last read and the end of the run.
			rest, _ := io.ReadAll(br)
			rest = append(pending, rest...)
			for _, line := range bytes.SplitAfter(rest, []byte("\n")) {
				if l, ok := parseLogLine(line); ok && !emit(l) {
					return
				}
			}
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-runDone:
		case <-time.After(100 * time.Millisecond):
		}
	}
}
