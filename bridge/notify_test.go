package bridge

import (
	"context"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// recordingBroker counts what reaches it.
type recordingBroker struct {
	published int
	qos       []byte
}

func (r *recordingBroker) Publish(context.Context, string, []byte, bool) error {
	r.published++
	return nil
}
func (r *recordingBroker) Subscribe(context.Context, string, func(mqtt.Message)) error {
	r.qos = append(r.qos, 1)
	return nil
}
func (r *recordingBroker) Unsubscribe(context.Context, string) error { return nil }
func (r *recordingBroker) SubscribeQoS(_ context.Context, _ string, q byte, _ func(mqtt.Message)) error {
	r.qos = append(r.qos, q)
	return nil
}

func TestEveryPublishIsAChange(t *testing.T) {
	var c Changes
	inner := &recordingBroker{}
	b := NotifyingBroker(inner, &c)
	first, stopFirst := c.SubscribeChanges()
	second, stopSecond := c.SubscribeChanges()
	defer stopSecond()
	ctx := context.Background()
	_ = b.Publish(ctx, "cloud2mqtt/wink/lamp", []byte(`{"state":"ON"}`), true)
	_ = b.Publish(ctx, "cloud2mqtt/wink/lamp", []byte(`{"state":"OFF"}`), true)
	if inner.published != 2 {
		t.Fatalf("%d publishes reached the broker, want 2", inner.published)
	}
	for i, ch := range []<-chan struct{}{first, second} {
		select {
		case <-ch:
		default:
			t.Fatalf("subscriber %d was not told", i)
		}
		select {
		case <-ch:
			t.Fatalf("subscriber %d was told twice for one burst it had not read", i)
		default:
		}
	}
	stopFirst()
	_ = b.Publish(ctx, "t", nil, false)
	select {
	case <-first:
		t.Error("an ended subscription was told")
	default:
	}
	if err := b.(qosSubscriber).SubscribeQoS(ctx, "homeassistant/#", 0, func(mqtt.Message) {}); err != nil || inner.qos[0] != 0 {
		t.Errorf("SubscribeQoS did not reach the broker at QoS 0: %v %v", err, inner.qos)
	}
}
