package mqtttest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

func TestRecorderWaitPastAndFuture(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	rec := mqtttest.NewRecorder(t, url, base+"/#")

	mqtttest.Publish(t, url, base+"/a", []byte("1"), false)
	rec.WaitTopic(t, 5*time.Second, base+"/a", []byte("1"))
	// Already recorded: returned again without waiting for new traffic.
	m := rec.Wait(t, 5*time.Second, func(m mqtt.Message) bool { return m.Topic == base+"/a" })
	if string(m.Payload) != "1" {
		t.Fatalf("Wait = %q", m.Payload)
	}

	mqtttest.Publish(t, url, base+"/b", []byte("2"), true)
	rec.WaitTopic(t, 5*time.Second, base+"/b", nil)
	if got, ok := rec.Last(base + "/b"); !ok || string(got.Payload) != "2" {
		t.Fatalf("Last = %+v, %t", got, ok)
	}
	if _, ok := rec.Last(base + "/none"); ok {
		t.Fatal("Last found a topic never published")
	}
	msgs := rec.Messages()
	if len(msgs) != 2 || msgs[0].Topic != base+"/a" || msgs[1].Topic != base+"/b" {
		t.Fatalf("Messages = %+v", msgs)
	}
	msgs[0].Topic = "changed"
	if rec.Messages()[0].Topic != base+"/a" {
		t.Fatal("Messages returned the recorder's own slice")
	}
}

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msg = fmt.Sprintf(format, args...)
}

func (f *fatalTB) Helper() {}

func TestRecorderWaitTimeoutDumpsMessages(t *testing.T) {
	url := mqtttest.BrokerURL(t)
	base := mqtttest.BaseTopic(t)
	rec := mqtttest.NewRecorder(t, url, base+"/#")
	mqtttest.Publish(t, url, base+"/seen", []byte("hello"), false)
	rec.WaitTopic(t, 5*time.Second, base+"/seen", nil)

	ft := &fatalTB{TB: t}
	rec.Wait(ft, 50*time.Millisecond, func(m mqtt.Message) bool { return m.Topic == base+"/never" })
	if !strings.Contains(ft.msg, "no matching message") || !strings.Contains(ft.msg, base+"/seen") || !strings.Contains(ft.msg, "hello") {
		t.Fatalf("timeout message lacks the dump: %q", ft.msg)
	}
}

func TestBaseTopicClearsRetainedOnSharedBroker(t *testing.T) {
	b := mqtttest.StartBroker(t)
	t.Setenv(mqtttest.EnvBrokerURL, b.URL())
	var base string
	t.Run("user", func(t *testing.T) {
		if got := mqtttest.BrokerURL(t); got != b.URL() {
			t.Fatalf("BrokerURL = %s, want the environment's %s", got, b.URL())
		}
		base = mqtttest.BaseTopic(t)
		mqtttest.Publish(t, b.URL(), base+"/a", []byte("x"), true)
		mqtttest.Publish(t, b.URL(), base+"/b/c", []byte("y"), true)
	})
	if !strings.HasPrefix(base, "c2mtest-") {
		t.Fatalf("BaseTopic = %q", base)
	}

	// After the subtest's cleanup no retained message is left under base.
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("check"))
	if err := paho.WaitTokenTimeout(c.Connect(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(0)
	var mu sync.Mutex
	var retained []string
	done := make(chan struct{})
	tok := c.Subscribe(base+"/#", 1, func(_ paho.Client, m paho.Message) {
		if m.Topic() == base+"/end" {
			close(done)
			return
		}
		mu.Lock()
		retained = append(retained, m.Topic())
		mu.Unlock()
	})
	if err := paho.WaitTokenTimeout(tok, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := paho.WaitTokenTimeout(c.Publish(base+"/end", 1, false, []byte{}), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("end marker not received")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(retained) != 0 {
		t.Fatalf("retained messages left under %s: %v", base, retained)
	}
}

func TestBaseTopicsAreUnique(t *testing.T) {
	if a, b := mqtttest.BaseTopic(t), mqtttest.BaseTopic(t); a == b {
		t.Fatalf("BaseTopic returned %s twice", a)
	}
}
