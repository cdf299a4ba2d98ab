package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// benchMosquittoConfig is the private broker's configuration: the one
// docker-compose.yml runs (set_tcp_nodelay), on a loopback port of its own,
// without persistence and without a cap on queued messages (a cold start
// sends tens of thousands to one subscriber).
const benchMosquittoConfig = `listener %d 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
persistence false
max_queued_messages 0
log_dest none
`

// benchMosquitto is a mosquitto the bench started for itself.
type benchMosquitto struct {
	cmd     *exec.Cmd
	done    chan error
	url     string
	version string
}

// findMosquitto is the mosquitto binary on PATH or in /usr/sbin, or "".
func findMosquitto() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	return ""
}

// startMosquitto starts bin with the bench's configuration in dir and
// waits until it accepts connections.
func startMosquitto(ctx context.Context, bin, dir string) (*benchMosquitto, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(benchMosquittoConfig, port)), 0o600); err != nil {
		return nil, fmt.Errorf("bench: mosquitto configuration: %w", err)
	}
	out, _ := exec.CommandContext(ctx, bin, "-h").CombinedOutput()
	version, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	cmd := exec.Command(bin, "-c", cfg)
	logs, err := os.Create(filepath.Join(dir, "mosquitto.log"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, fmt.Errorf("bench: start %s: %w", bin, err)
	}
	m := &benchMosquitto{cmd: cmd, done: make(chan error, 1), url: fmt.Sprintf("tcp://127.0.0.1:%d", port), version: version}
	go func() { m.done <- cmd.Wait(); logs.Close() }()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return m, nil
		}
		select {
		case err := <-m.done:
			return nil, fmt.Errorf("bench: %s ended at start (%v); its output is in %s", bin, err, logs.Name())
		case <-ctx.Done():
			m.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond): // polling a port that is not yet open
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, errors.New("bench: mosquitto did not accept connections on " + addr + " within 10s")
		}
	}
}

// stop ends the broker.
func (m *benchMosquitto) stop() {
	_ = m.cmd.Process.Signal(os.Interrupt)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// freePort is a loopback TCP port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
