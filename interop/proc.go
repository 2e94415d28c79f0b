package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process gets to exit after SIGTERM before SIGKILL.
const stopGrace = 3 * time.Second

// logBuffer collects a process's standard output and error.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a process the suite started and owns: it is stopped by its PID,
// never by name.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  logBuffer
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait's result, set before done is closed
}

// procs are the processes still running, stopped by stopAll.
var procs struct {
	mu   sync.Mutex
	live map[*proc]bool
}

// startProc starts name (a label for logs) running argv in dir. Its output
// goes to its log; it dies with the suite (see setDeathSignal).
func startProc(name, dir string, argv ...string) (*proc, error) {
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Dir = dir
	p.cmd.Stdout = &p.log
	p.cmd.Stderr = &p.log
	setDeathSignal(p.cmd)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	procs.mu.Lock()
	if procs.live == nil {
		procs.live = make(map[*proc]bool)
	}
	procs.live[p] = true
	procs.mu.Unlock()
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid returns the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor waits until the log matches re and returns the submatches of the
// first match. It fails when the process exits first or timeout passes.
func (p *proc) waitFor(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(p.log.String()); m != nil {
			return m, nil
		}
		if p.exited() {
			// The last output may have arrived with the exit.
			if m := re.FindStringSubmatch(p.log.String()); m != nil {
				return m, nil
			}
			return nil, fmt.Errorf("%s (pid %d) exited (%v) before printing %q", p.name, p.pid(), p.err, re)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s (pid %d) did not print %q within %v", p.name, p.pid(), re, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logDir, when set, is where each process's log is written once it has
// stopped (kept with -keep).
var logDir string

// stop ends the process by its PID: SIGTERM, then SIGKILL after stopGrace,
// and waits until it is reaped; then it writes the log to logDir. It is
// idempotent.
func (p *proc) stop() {
	procs.mu.Lock()
	live := procs.live[p]
	delete(procs.live, p)
	procs.mu.Unlock()
	if !live {
		return
	}
	if !p.exited() {
		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(p.pid(), syscall.SIGKILL)
			<-p.done
		}
	}
	if logDir != "" {
		name := strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(p.name)
		_ = os.WriteFile(filepath.Join(logDir, fmt.Sprintf("%s-%d.log", name, p.pid())), []byte(p.log.String()), 0o600)
	}
}

// stopAll stops every process still running.
func stopAll() {
	procs.mu.Lock()
	var list []*proc
	for p := range procs.live {
		list = append(list, p)
	}
	procs.mu.Unlock()
	for _, p := range list {
		p.stop()
	}
}

// printLog writes the process's log to standard error, indented.
func (p *proc) printLog() {
	printIndented(fmt.Sprintf("log of %s (pid %d)", p.name, p.pid()), p.log.String())
}

func printIndented(title, text string) {
	fmt.Fprintf(os.Stderr, "  --- %s ---\n", title)
	text = strings.TrimRight(text, "\n")
	const maxLines = 60
	lines := strings.Split(text, "\n")
	if len(lines) > maxLines {
		fmt.Fprintf(os.Stderr, "    … %d earlier lines\n", len(lines)-maxLines)
		lines = lines[len(lines)-maxLines:]
	}
	for _, l := range lines {
		fmt.Fprintf(os.Stderr, "    %s\n", l)
	}
	fmt.Fprintf(os.Stderr, "  --- end of %s ---\n", title)
}

// runCmd runs a short command to completion and returns its combined output.
func runCmd(ctx context.Context, dir string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	setDeathSignal(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return string(out), nil
}
