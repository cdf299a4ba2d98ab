package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/mqtttest"
)

// scaleBridge is a bridge over many Wink accounts with recorders of
// everything it publishes.
type scaleBridge struct {
	base     string
	rec      *mqtttest.Recorder // <base>/#
	disc     *mqtttest.Recorder // the discovery prefix
	before   uint64             // heap in use before the bridge started
	start    time.Time
	stopOnce func()
	started  atomic.Int32  // calls of Options.Started
	startedC chan struct{} // closed at the first
}

// startScaleBridge starts a bridge over one Wink account per server,
// stopped when the test ends.
func startScaleBridge(tb testing.TB, servers []*winktest.Server) *scaleBridge {
	url := mqtttest.BrokerURL(tb)
	base := mqtttest.BaseTopic(tb)
	topics := bridge.Topics{Base: base, DiscoveryPrefix: base + "-ha"}
	sb := &scaleBridge{base: base, rec: mqtttest.NewRecorder(tb, url, base+"/#"),
		disc:     mqtttest.NewClearingRecorder(tb, url, topics.DiscoveryPrefix+"/#"),
		startedC: make(chan struct{})}
	log := testLogger(tb)
	var providers []cloud.Provider
	for i, srv := range servers {
		_, refresh := srv.IssueTokens()
		p, err := wink.New(wink.Config{Account: fmt.Sprintf("home%d", i), ClientID: "winktest-client",
			ClientSecret: "winktest-secret", RefreshToken: refresh, APIURL: srv.URL,
			PubNubOrigin: srv.PubNubOrigin, SubscribeTimeout: 5 * time.Second, Logger: log})
		if err != nil {
			tb.Fatal(err)
		}
		providers = append(providers, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	client, err := mqtt.Connect(ctx, mqtt.Options{URL: url, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	started := func() {
		if sb.started.Add(1) == 1 {
			close(sb.startedC)
		}
		debug.FreeOSMemory() // as the program does, for rss-MiB
	}
	b, err := bridge.New(client, providers, bridge.Options{Topics: topics, Logger: log, Version: "bench", Started: started})
	if err != nil {
		tb.Fatal(err)
	}
	sb.before = heapInUse()
	done := make(chan struct{})
	sb.start = time.Now()
	go func() { defer close(done); _ = b.Run(ctx) }()
	stopped := false
	sb.stopOnce = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		_ = client.Close(context.Background())
	}
	tb.Cleanup(sb.stopOnce)
	return sb
}

// waitDevices returns once the state and availability of want devices
// reached the subscriber.
func (sb *scaleBridge) waitDevices(tb testing.TB, want int) {
	states, avail := map[string]bool{}, map[string]bool{}
	sb.rec.Wait(tb, 2*time.Minute, func(m mqtt.Message) bool {
		rest := strings.TrimPrefix(m.Topic, sb.base+"/")
		if strings.HasPrefix(rest, "bridge/") || len(m.Payload) == 0 {
			return false
		}
		if strings.HasSuffix(rest, "/availability") {
			avail[strings.TrimSuffix(rest, "/availability")] = true
		} else {
			states[rest] = true
			// availability: state (the default) carries it in the state.
			if bytes.Contains(m.Payload, []byte(`"availability":"`)) {
				avail[rest] = true
			}
		}
		return len(states) >= want && len(avail) >= want
	})
}

// publishEverything starts a bridge over the accounts and returns once the
// state and availability of all want devices reached a subscriber.
func publishEverything(tb testing.TB, servers []*winktest.Server, want int) (time.Duration, int, uint64) {
	sb := startScaleBridge(tb, servers)
	defer sb.stopOnce()
	sb.waitDevices(tb, want)
	elapsed := time.Since(sb.start)
	// What the running bridge and its clients hold, less what the test's
	// recorders keep of every message.
	var recorded uint64
	for _, m := range append(sb.rec.Messages(), sb.disc.Messages()...) {
		recorded += uint64(len(m.Topic) + len(m.Payload))
	}
	held := heapInUse() - sb.before - min(recorded, heapInUse()-sb.before)
	return elapsed, len(sb.rec.Messages()) + len(sb.disc.Messages()), held
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func scaleServers(tb testing.TB, accounts, perAccount int) []*winktest.Server {
	var servers []*winktest.Server
	for i := range accounts {
		srv := winktest.NewServer(winktest.Options{HoldPoll: 2 * time.Second, Logger: testLogger(tb)})
		tb.Cleanup(srv.Close)
		srv.FurnishGenerated(perAccount, fmt.Sprintf("home%d", i))
		servers = append(servers, srv)
	}
	return servers
}

func TestThousandDevicesAcrossAccountsAreAllPublished(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 1,000 devices")
	}
	servers := scaleServers(t, 4, 250)
	_, _, _ = publishEverything(t, servers, 1000)
}

func TestDeviceListIsPublishedOnceAllAccountsListed(t *testing.T) {
	servers := scaleServers(t, 5, 4)
	sb := startScaleBridge(t, servers)
	sb.waitDevices(t, 20)
	isList := func(m mqtt.Message) bool { return m.Topic == sb.base+"/bridge/devices" }
	first := sb.rec.Wait(t, wait, isList)
	var list []bridge.DeviceInfo
	if err := json.Unmarshal(first.Payload, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 20 {
		t.Errorf("the first bridge/devices lists %d devices, want all 20 of the 5 accounts", len(list))
	}
	for _, m := range sb.rec.Messages() {
		if strings.HasSuffix(m.Topic, "/bridge/event") && strings.Contains(string(m.Payload), "device_added") {
			t.Errorf("device found at start announced as added: %s", m.Payload)
		}
	}
	// A device added later is announced, and the list follows once.
	servers[0].AddDevice(map[string]any{"object_type": "binary_switch", "object_id": "999", "name": "New plug",
		"last_reading": map[string]any{"connection": true, "powered": true}})
	sb.rec.Wait(t, wait, func(m mqtt.Message) bool {
		return strings.HasSuffix(m.Topic, "/bridge/event") && strings.Contains(string(m.Payload), `"device_added"`) &&
			strings.Contains(string(m.Payload), "New plug")
	})
	sb.rec.Wait(t, wait, func(m mqtt.Message) bool {
		return isList(m) && strings.Contains(string(m.Payload), "New plug")
	})
	// The program settles its memory once, after the start, not at the
	// lists that follow.
	select {
	case <-sb.startedC:
	case <-time.After(wait):
		t.Fatal("Options.Started was not called after the start was published")
	}
	if n := sb.started.Load(); n != 1 {
		t.Errorf("Options.Started called %d times, want once", n)
	}
}

// BenchmarkPublishThousandDevices measures a cold start with 1,000 devices
// in four accounts: time until every device's discovery, state and
// availability reached a subscriber, messages per second, the heap the
// running bridge and its four cloud clients hold (bridge-heap-MiB, and per
// device heap-B/device), and the resident memory of the whole test process,
// emulators included (rss-MiB).
func BenchmarkPublishThousandDevices(b *testing.B) {
	servers := scaleServers(b, 4, 250)
	var total time.Duration
	var msgs int
	var held uint64
	for range b.N {
		elapsed, n, h := publishEverything(b, servers, 1000)
		total += elapsed
		msgs += n
		held = max(held, h)
	}
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms/publish-all")
	b.ReportMetric(float64(msgs)/total.Seconds(), "msgs/s")
	b.ReportMetric(float64(held)/(1<<20), "bridge-heap-MiB")
	b.ReportMetric(float64(held)/1000, "heap-B/device")
	if rss, ok := residentMiB(); ok {
		b.ReportMetric(rss, "rss-MiB")
	}
}

// residentMiB reads the process's resident memory from /proc.
func residentMiB() (float64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}
