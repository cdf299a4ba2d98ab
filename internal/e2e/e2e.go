// Package e2e runs cloud2mqtt as a user does, for the tests that drive it
// from outside programs (Node-RED, a browser): it builds the binary, starts
// a broker of the test's own and `cloud2mqtt demo` against it.
package e2e

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt/broker"
)

// Wait bounds every wait of these tests.
const Wait = 60 * time.Second

// Binary builds cmd/cloud2mqtt into a temporary directory.
func Binary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cloud2mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/cloud2mqtt/cloud2mqtt/cmd/cloud2mqtt")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cloud2mqtt: %v\n%s", err, b)
	}
	return out
}

// Broker starts an embedded broker of the test's own on a free port, so
// that the demo's fixed topics (cloud2mqtt/...) meet no other test's.
func Broker(t *testing.T) *broker.Broker {
	t.Helper()
	b, err := broker.Start("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Process is a program the test started, its output kept.
type Process struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	line chan struct{} // closed and replaced on every line
	done chan struct{}
}

// Start runs name with args and env (added to this process's), stopping it
// with SIGINT (then SIGKILL) when the test ends.
func Start(t *testing.T, env []string, name string, args ...string) *Process {
	t.Helper()
	p := &Process{cmd: exec.Command(name, args...), line: make(chan struct{}), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Dir = t.TempDir() // no config.yaml around
	p.attach(t)
	return p
}

// attach starts p.cmd with its output kept, and stops it (SIGINT, then
// SIGKILL) when the test ends.
func (p *Process) attach(t *testing.T) {
	t.Helper()
	name := p.cmd.Path
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			close(p.line)
			p.line = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	go func() { _ = p.cmd.Wait(); w.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), p.Output())
		}
	})
}

// Output is everything the process wrote so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// WaitFor waits for a line matching re and returns its submatches.
func (p *Process) WaitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.After(Wait)
	for {
		p.mu.Lock()
		m := re.FindStringSubmatch(p.out.String())
		line := p.line
		p.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-line:
		case <-p.done:
			t.Fatalf("the process ended before %q:\n%s", re, p.Output())
		case <-deadline:
			t.Fatalf("no %q within %s:\n%s", re, Wait, p.Output())
		}
	}
}

var pageRE = regexp.MustCompile(`status page listening.*addr=(127\.0\.0\.1:\d+)`)

// Demo runs `cloud2mqtt demo` against brokerURL with the status page on a
// free loopback port and returns it with the page's host:port.
func Demo(t *testing.T, bin, brokerURL string, args ...string) (*Process, string) {
	t.Helper()
	p := Start(t, []string{"CLOUD2MQTT_WEB_LISTEN=127.0.0.1:0"}, bin,
		append([]string{"demo", "--mqtt-url", brokerURL}, args...)...)
	return p, p.WaitFor(t, pageRE)[1]
}
