package mqtttest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt/broker"
)

// OwnBroker is a broker that belongs to one test, which may stop and start
// it again on the same address: a mosquitto process with persistence in a
// temporary directory when the mosquitto binary is installed, the embedded
// broker (no persistence) otherwise. The shared broker of
// CLOUD2MQTT_TEST_MQTT_URL is never used for this.
type OwnBroker struct {
	t    testing.TB
	addr string
	bin  string // mosquitto binary; empty for the embedded broker
	conf string

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed when cmd has been waited for.
	exited chan struct{}
	emb    *broker.Broker
}

// StartOwnBroker starts a broker of the test's own on a free port of
// 127.0.0.1 and stops it when the test ends.
func StartOwnBroker(t testing.TB) *OwnBroker {
	t.Helper()
	b := &OwnBroker{t: t, addr: freeAddr(t), bin: broker.MosquittoBinary()}
	if b.bin != "" {
		dir := t.TempDir()
		b.conf = filepath.Join(dir, "mosquitto.conf")
		_, port, _ := net.SplitHostPort(b.addr)
		// mosquitto started as root switches to the user named here (else
		// "mosquitto", who could not write the persistence directory).
		me := "root"
		if u, err := user.Current(); err == nil {
			me = u.Username
		}
		conf := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\nuser %s\npersistence true\n"+
			"persistence_location %s/\nmax_queued_messages 100000\n"+
			"log_dest none\n", port, me, dir)
		if err := os.WriteFile(b.conf, []byte(conf), 0o600); err != nil {
			t.Fatalf("mqtttest: write mosquitto.conf: %v", err)
		}
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	return b
}

// Persistent reports whether the broker keeps sessions, queued messages
// and retained messages across its restarts (mosquitto does).
func (b *OwnBroker) Persistent() bool { return b.bin != "" }

// Kind names the broker: "mosquitto" or "embedded".
func (b *OwnBroker) Kind() string {
	if b.bin != "" {
		return "mosquitto"
	}
	return "embedded"
}

// URL is the broker's tcp:// URL.
func (b *OwnBroker) URL() string { return "tcp://" + b.addr }

// Start starts the broker and returns once it accepts connections.
func (b *OwnBroker) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil || b.emb != nil {
		return errors.New("mqtttest: broker already running")
	}
	if b.bin == "" {
		emb, err := broker.Start(b.addr, nil)
		if err != nil {
			return fmt.Errorf("mqtttest: start embedded broker on %s: %w", b.addr, err)
		}
		b.emb = emb
		return nil
	}
	cmd := exec.Command(b.bin, "-c", b.conf)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mqtttest: start mosquitto: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	b.cmd, b.exited = cmd, exited
	deadline := time.Now().Add(opTimeout)
	for {
		conn, err := net.DialTimeout("tcp", b.addr, time.Second)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		select {
		case <-exited:
			b.cmd = nil
			return fmt.Errorf("mqtttest: mosquitto exited at start (port %s taken?)", b.addr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mqtttest: mosquitto not listening on %s after %s", b.addr, opTimeout)
		}
	}
}

// Stop stops the broker; mosquitto gets SIGTERM and saves its persistence
// database first.
func (b *OwnBroker) Stop() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.emb != nil {
		err := b.emb.Close()
		b.emb = nil
		return err
	}
	if b.cmd == nil {
		return nil
	}
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.exited:
	case <-time.After(opTimeout):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	b.cmd = nil
	return nil
}

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mqtttest: find a free port: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// SessionClientID returns a client id unique to this test, for a client
// with a persistent session on the broker at url. When the test ends the
// session is ended too (a clean connect with that id), so a shared broker
// does not keep it and queue messages for it forever.
func SessionClientID(t testing.TB, url string) string {
	t.Helper()
	id := "c2mtest-" + randomHex(6)
	t.Cleanup(func() { ForgetSession(t, url, id) })
	return id
}

// ForgetSession ends the broker's session of clientID, if the broker is
// reachable.
func ForgetSession(t testing.TB, url, clientID string) {
	t.Helper()
	c, err := connect(url, clientID)
	if err != nil {
		t.Logf("mqtttest: forget session %s: %v", clientID, err)
		return
	}
	c.Disconnect(100)
}
