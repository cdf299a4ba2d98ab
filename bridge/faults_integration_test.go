package bridge_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// pushOutage cuts a cloud's push channel (Wink's PubNub long-polls fail,
// Homey's socket is dropped and refused) until the returned func heals it.
func (w winkSide) pushOutage(*testing.T) func() {
	w.srv.FailNextPolls(1<<30, 500)
	return func() { w.srv.FailNextPolls(0, 0) }
}

func (s homeySide) pushOutage(*testing.T) func() {
	s.srv.RefuseSockets(true)
	s.srv.DropSockets()
	return func() { s.srv.RefuseSockets(false) }
}

func (w winkSide) setLatency(d time.Duration)  { w.srv.SetLatency(d) }
func (s homeySide) setLatency(d time.Duration) { s.srv.SetLatency(d) }

// waitPUTs waits until the cloud has had n device PUTs, counted from the
// start of its request log.
func waitPUTs(t *testing.T, side faultySide, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	seen := 0
	var err error
	switch s := side.(type) {
	case winkSide:
		_, err = s.srv.WaitRequest(ctx, func(r winktest.Request) bool {
			if r.Method == "PUT" {
				seen++
			}
			return seen >= n
		})
	case homeySide:
		_, err = s.srv.WaitRequest(ctx, func(r homeytest.Request) bool {
			if (r.Host == homeytest.HostHomey || r.Host == homeytest.HostSocket) && r.Method == "PUT" {
				seen++
			}
			return seen >= n
		})
	}
	if err != nil {
		t.Fatalf("the cloud had %d device PUTs, want %d: %v", seen, n, err)
	}
}

// The fault matrix: each fault, over both clouds, is recovered without a
// restart, every command of a stream is applied (the device shows the last
// one) and none is reported failed.
func TestProvidersFaultMatrix(t *testing.T) {
	type fault struct {
		name string
		// inject starts the fault before the stream; heal, when set, is
		// called once the stream is sent, and the fault lasts until then.
		inject func(t *testing.T, side faultySide) (heal func())
	}
	faults := []fault{
		{"expired login (401)", func(t *testing.T, side faultySide) func() { side.ExpireLogin(t); return nil }},
		{"throttled (429 + Retry-After)", func(t *testing.T, side faultySide) func() { side.ThrottleNext(2, time.Second); return nil }},
		{"5xx burst", func(t *testing.T, side faultySide) func() { side.FailNext(4, 502); return nil }},
		{"lost pushes", func(t *testing.T, side faultySide) func() {
			side.DropPushes(100)
			return func() { side.DropPushes(0) }
		}},
		{"push channel down", func(t *testing.T, side faultySide) func() {
			switch s := side.(type) {
			case winkSide:
				return s.pushOutage(t)
			case homeySide:
				return s.pushOutage(t)
			}
			return nil
		}},
		{"timeouts", func(t *testing.T, side faultySide) func() {
			before := side.Commands()
			slow := side.(interface{ setLatency(time.Duration) })
			slow.setLatency(1500 * time.Millisecond)
			return func() {
				// Heal once the first call has timed out and been sent again.
				waitPUTs(t, side, before+2)
				slow.setLatency(0)
			}
		}},
	}
	forEachProvider(t, func(t *testing.T, pc providerCase) {
		for _, f := range faults {
			t.Run(f.name, func(t *testing.T) {
				h, side := startFaulty(t, pc, func(o *bridge.Options) {
					o.CommandTimeout = time.Second
					o.ConfirmAfter = 500 * time.Millisecond
				})
				h.state(t, pc.light, nil)
				heal := f.inject(t, side)
				last := 0.0
				for i := range 5 {
					last = float64(50 + 30*i)
					h.publish(t, pc.light+"/set", fmt.Sprintf(`{"state":"ON","brightness":%v}`, last))
				}
				if heal != nil {
					heal()
				}
				h.state(t, pc.light, brightnessIs(last))
				values, _ := side.LightBrightness(t)
				if len(values) == 0 || math.Abs(values[len(values)-1]-last/255) > 0.01 {
					t.Errorf("the cloud's last brightness call is %v, want %v/255", values, last)
				}
				noEvent(t, h, "command_failed")
			})
		}
	})
}
