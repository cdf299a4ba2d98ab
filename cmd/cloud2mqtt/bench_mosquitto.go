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
	*benchChild
	url     string
	version string
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
	child, err := startChild(bin, filepath.Join(dir, "mosquitto.log"), "-c", cfg)
	if err != nil {
		return nil, err
	}
	m := &benchMosquitto{benchChild: child, url: fmt.Sprintf("tcp://127.0.0.1:%d", port), version: version}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return m, nil
		}
		if err := m.exited(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, errors.New("bench: mosquitto did not accept connections on " + addr + " within 10s")
		}
		if err := waitTick(ctx, 20*time.Millisecond); err != nil { // polling a port that is not yet open
			m.stop()
			return nil, err
		}
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
