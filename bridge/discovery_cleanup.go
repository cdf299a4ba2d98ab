package bridge

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// discoveryFilter matches every discovery config topic, in both forms, and
// the start-up marker.
func (b *Bridge) discoveryFilter() string { return b.topics.DiscoveryPrefix + "/#" }

// collectDiscovery reads the retained discovery configs present at start,
// so that those of devices that are gone can be cleared once every account
// has listed its devices. A marker published after subscribing arrives
// after the broker's retained messages; the subscription ends then, before
// the bridge publishes discovery of its own (a client subscribed to its own
// publishes gets each one back, which slows a bulk publish down).
func (b *Bridge) collectDiscovery(ctx context.Context) error {
	b.staleMu.Lock()
	b.staleConfigs, b.staleAvailability, b.collecting = map[string]string{}, map[string]string{}, true
	b.staleMu.Unlock()
	marker := b.topics.DiscoveryPrefix + "/cloud2mqtt_sync/" + strconv.FormatUint(rand.Uint64(), 36)
	seen := make(chan struct{})
	var once sync.Once
	handler := func(m mqtt.Message) {
		if m.Topic == marker {
			once.Do(func() { close(seen) })
			return
		}
		if !m.Retained || len(m.Payload) == 0 || !strings.HasSuffix(m.Topic, "/config") {
			return
		}
		// Only the topic and owner of this bridge's configs are kept, not
		// the payloads: with thousands of devices they add up.
		owned, ours := b.ownership(m.Payload)
		if !ours {
			return
		}
		b.staleMu.Lock()
		defer b.staleMu.Unlock()
		if b.collecting {
			b.staleConfigs[m.Topic] = owned.account
			if owned.availability != "" {
				b.staleAvailability[owned.availability] = owned.account
			}
		}
	}
	if err := b.subscribeBulk(ctx, b.discoveryFilter(), handler); err != nil {
		return fmt.Errorf("bridge: subscribe %s: %w", b.discoveryFilter(), err)
	}
	defer func() { _ = b.broker.Unsubscribe(ctx, b.discoveryFilter()) }()
	if err := b.publish(ctx, marker, nil, false); err != nil {
		return fmt.Errorf("bridge: publish %s: %w", marker, err)
	}
	select {
	case <-seen:
	case <-time.After(b.opts.CleanupDelay):
		b.log.Warn("retained discovery configs still arriving; stale ones may be left", "waited", b.opts.CleanupDelay)
	case <-ctx.Done():
	}
	b.staleMu.Lock()
	b.collecting = false
	b.staleMu.Unlock()
	return nil
}

// ownedConfig is what the cleanup keeps of a retained discovery config of
// this bridge.
type ownedConfig struct {
	account string
	// availability is the device's <device>/availability topic, when the
	// config reads one.
	availability string
}

// ownership tells whether a discovery config was published by this
// bridge instance, for which account, and which availability topic it
// reads. It reads the payloads of this version, with abbreviated keys and a
// "~" topic base, and those of earlier ones with full keys, which brokers
// still retain; where both forms of a key are there, the abbreviation wins,
// as in Home Assistant.
func (b *Bridge) ownership(payload []byte) (ownedConfig, bool) {
	var cfg struct {
		Origin     map[string]any  `json:"o"`
		OriginLong map[string]any  `json:"origin"`
		Base       string          `json:"~"`
		StatT      string          `json:"stat_t"`
		StateTopic string          `json:"state_topic"`
		Avty       json.RawMessage `json:"avty"`
		Avail      json.RawMessage `json:"availability"`
	}
	if json.Unmarshal(payload, &cfg) != nil {
		return ownedConfig{}, false
	}
	origin := cfg.Origin
	if origin == nil {
		origin = cfg.OriginLong
	}
	if origin["name"] != "cloud2mqtt" {
		return ownedConfig{}, false
	}
	var owned ownedConfig
	topics := []string{cmp.Or(cfg.StatT, cfg.StateTopic)}
	topics = append(topics, availTopics(cmp.Or(string(cfg.Avty), string(cfg.Avail)))...)
	for _, topic := range topics {
		topic = expandTopicBase(topic, cfg.Base)
		rest, ok := strings.CutPrefix(topic, b.topics.Base+"/")
		if !ok {
			continue
		}
		account, _, ok := strings.Cut(rest, "/")
		if !ok || account == "bridge" {
			continue
		}
		if owned.account == "" {
			owned.account = account
		}
		if strings.HasSuffix(rest, "/availability") {
			owned.availability = topic
		}
	}
	return owned, owned.account != ""
}

// availTopics are the topics of an availability list, with keys in either
// form.
func availTopics(raw string) []string {
	var list []struct {
		T     string `json:"t"`
		Topic string `json:"topic"`
	}
	if raw == "" || json.Unmarshal([]byte(raw), &list) != nil {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, cmp.Or(a.T, a.Topic))
	}
	return out
}

// topicBase is the key, and the value prefix, of Home Assistant's topic
// base in discovery payloads.
const topicBase = "~"

// expandTopicBase replaces "~" at the start or end of topic with base, as
// Home Assistant does.
func expandTopicBase(topic, base string) string {
	if base == "" {
		return topic
	}
	out := topic
	if strings.HasPrefix(topic, topicBase) {
		out = base + topic[len(topicBase):]
	}
	if strings.HasSuffix(topic, topicBase) {
		out = topic[:len(topic)-len(topicBase)] + base
	}
	return out
}

// clearStaleDiscovery clears the retained discovery configs of this bridge
// that match no current device, then stops collecting. Accounts that have
// not listed their devices yet keep theirs.
func (b *Bridge) clearStaleDiscovery(ctx context.Context) {
	b.staleMu.Lock()
	found, oldAvail := b.staleConfigs, b.staleAvailability
	b.staleConfigs, b.staleAvailability = nil, nil
	b.staleMu.Unlock()
	if found == nil {
		return
	}
	current := map[string]bool{}
	listed := map[string]bool{}
	b.mu.RLock()
	for name, a := range b.accounts {
		listed[name] = a.listed
		for _, e := range a.devices {
			for topic := range e.lastDiscovery {
				current[topic] = true
			}
			if b.opts.availabilityTopic() {
				current[e.topic+"/availability"] = true
			}
		}
	}
	b.mu.RUnlock()
	cleared := b.clearUnowned(ctx, found, listed, current)
	for _, topic := range cleared {
		b.log.Info("stale discovery config cleared", "topic", topic)
	}
	if len(cleared) > 0 {
		b.publishEvent(ctx, "discovery_cleaned", map[string]any{"cleared": len(cleared)})
	}
	// The <device>/availability topics those configs read and no current
	// device publishes: those of devices gone since and, with availability
	// in the state, all of them. Without this, a flow reading such a topic
	// would see its last value forever.
	if n := len(b.clearUnowned(ctx, oldAvail, listed, current)); n > 0 {
		b.log.Info("availability topics no device publishes cleared (availability: state carries it in each device's state)",
			"cleared", n)
	}
}

// clearUnowned clears the retained topics of found (topic → account) that
// are not current, but for those of accounts configured and not listed yet,
// and returns the topics it cleared.
func (b *Bridge) clearUnowned(ctx context.Context, found map[string]string, listed, current map[string]bool) []string {
	var cleared []string
	o := b.newOutbox(ctx)
	for _, topic := range sortedKeys(found) {
		if current[topic] {
			continue
		}
		if isListed, configured := listed[found[topic]]; configured && !isListed {
			continue
		}
		o.publish(topic, nil, true, func(err error) {
			if err == nil {
				cleared = append(cleared, topic)
			}
		})
	}
	o.flush()
	return cleared
}
