package broker_test

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt/broker"
)

// syncBuffer is a bytes.Buffer safe for the broker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStartAddrURLClose(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.Addr(), "127.0.0.1:") || strings.HasSuffix(b.Addr(), ":0") {
		t.Fatalf("Addr = %q, want the bound port", b.Addr())
	}
	if b.URL() != "tcp://"+b.Addr() {
		t.Fatalf("URL = %q", b.URL())
	}
	conn, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatalf("broker not listening: %v", err)
	}
	_ = conn.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The address is free again.
	b2, err := broker.Start(b.Addr(), nil)
	if err != nil {
		t.Fatalf("restart on %s: %v", b.Addr(), err)
	}
	_ = b2.Close()
}

func TestStartOnBusyAddress(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = broker.Start(b.Addr(), nil)
	if err == nil || !strings.Contains(err.Error(), b.Addr()) {
		t.Fatalf("Start on a busy address: err = %v, want one naming %s", err, b.Addr())
	}
}

func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		info  bool
	}{{slog.LevelInfo, false}, {slog.LevelDebug, true}} {
		var buf syncBuffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level}))
		b, err := broker.Start("127.0.0.1:0", logger)
		if err != nil {
			t.Fatal(err)
		}
		_ = b.Close()
		if got := strings.Contains(buf.String(), "level=INFO"); got != tc.info {
			t.Errorf("caller level %v: broker info logs shown = %t, want %t\n%s", tc.level, got, tc.info, buf.String())
		}
	}
}
