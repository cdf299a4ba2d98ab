package bridge

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func TestUseTopicBase(t *testing.T) {
	const prefix = "cloud2mqtt/wink/bedroom_fan"
	cases := []struct {
		name    string
		in, out map[string]any
	}{
		{"two topics under the prefix: shorter with ~",
			map[string]any{"command_topic": prefix + "/set", "percentage_state_topic": prefix, "name": prefix},
			map[string]any{"command_topic": "~/set", "percentage_state_topic": "~", "name": prefix, "~": prefix}},
		{"one topic: ~ would cost more than it saves",
			map[string]any{"command_topic": prefix + "/set"},
			map[string]any{"command_topic": prefix + "/set"}},
		{"availability topics count; other topics and look-alikes stay",
			map[string]any{"state_topic": prefix, "json_attributes_topic": prefix + "_x/attr",
				"availability": []map[string]any{{"t": "cloud2mqtt/bridge/state"}, {"t": prefix + "/availability"}}},
			map[string]any{"state_topic": "~", "json_attributes_topic": prefix + "_x/attr", "~": prefix,
				"availability": []map[string]any{{"t": "cloud2mqtt/bridge/state"}, {"t": "~/availability"}}}},
		{"a topic starting with ~ would be taken for the base: no ~",
			map[string]any{"state_topic": prefix, "command_topic": prefix + "/set", "other_topic": "~x"},
			map[string]any{"state_topic": prefix, "command_topic": prefix + "/set", "other_topic": "~x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var shared []map[string]any
			if a, ok := c.in["availability"].([]map[string]any); ok {
				shared = a
			}
			useTopicBase(c.in, prefix)
			if !reflect.DeepEqual(c.in, c.out) {
				t.Errorf("got  %v\nwant %v", c.in, c.out)
			}
			if shared != nil && shared[1]["t"] != prefix+"/availability" {
				t.Errorf("the shared availability list was changed: %v", shared)
			}
		})
	}
}

func TestEncodeConfigLeavesOutDefaultsOnly(t *testing.T) {
	got := string(encodeConfig(nil, map[string]any{"payload_lock": "LOCK", "payload_unlock": "open sesame",
		"state_locked": "LOCKED", "value_template": "{{ value_json.state }}"}, "lock", ""))
	want := `{"pl_unlk":"open sesame","val_tpl":"{{ value_json.state }}"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestAppendValueWritesWhatEncodingJSONWrites: the encoder's bytes are
// encoding/json's for the same values with the keys abbreviated.
func TestAppendValueWritesWhatEncodingJSONWrites(t *testing.T) {
	values := []any{nil, true, false, 0, -3, 255, 0.1, 0.5, -12.25, 1e-7, 2.5e-9, 1e21, 123456789.0, 1e20,
		"", "plain", `quote " backslash \ slash /`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff\x00\x1f\x7f",
		"µg/m³ °C ü 中文 🙂", "\u2028\u2029", "bad \xff\xfe utf8 \xe2\x82", []string{}, []string{"a", "<b>"},
		[]map[string]any{{"t": "x/y", "val_tpl": "{{ value_json.state }}"}, {}},
		map[string]any{"name": nil, "ids": []string{"x"}, "sw": "1.0", "~": "a", "Z": 1, "a_b": 2.0},
		map[string]any{"state_topic": "not abbreviated below a config's root"},
		component{"platform": "x", "min": 0.2, "max": 1.0},
		map[string]component{"b": {"p": "sensor"}, "a": {"p": "switch", "name": "s"}},
		struct {
			A int `json:"a"`
		}{4},
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendValue(nil, v); string(got) != string(want) {
			t.Errorf("%#v:\n got  %s\n want %s", v, got, want)
		}
	}
	// Keys with an abbreviation are abbreviated, in the order of the
	// abbreviations; a component of a device-based config loses the
	// defaults of its platform; the root, its qos.
	root := map[string]any{"state_topic": "s", "qos": 1, "availability_mode": "all",
		"cmps": map[string]component{"lock": {"p": "lock", "payload_lock": "LOCK", "command_topic": "c", "unique_id": "u"}}}
	got := string(encodeDevice(nil, root, ""))
	want := `{"avty_mode":"all","cmps":{"lock":{"cmd_t":"c","p":"lock","qos":1,"uniq_id":"u"}},"stat_t":"s"}`
	if got != want {
		t.Errorf("device config:\n got  %s\n want %s", got, want)
	}
}

// BenchmarkDiscoveryEncode builds and encodes the device-based config of a
// lock with a battery and three settings, with full keys as before and
// abbreviated as now: the CPU the shortening costs per device, beside the
// bytes it saves.
func BenchmarkDiscoveryEncode(b *testing.B) {
	br, err := New(nopBroker{}, []cloud.Provider{&readCloud{}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { close(br.done) })
	d := cloud.Device{ID: "lock-109898", Name: "Front door", Class: cloud.ClassLock, Manufacturer: "schlage",
		Model: "BE469", HubID: "hub-1", Available: true,
		Fields: []cloud.Field{{Name: cloud.FieldLocked, Kind: cloud.KindBool, Writable: true},
			{Name: cloud.FieldBattery, Kind: cloud.KindNumber, Unit: "%"},
			{Name: "beeper_enabled", Kind: cloud.KindBool, Writable: true, Category: "config"},
			{Name: "alarm_mode", Kind: cloud.KindEnum, Writable: true, Choices: []string{"alert", "tamper", "forced_entry"}},
			{Name: "alarm_sensitivity", Kind: cloud.KindNumber, Writable: true, Min: cloud.Range(0.2), Max: cloud.Range(1), Step: 0.2}},
		State: map[string]any{cloud.FieldLocked: true, cloud.FieldBattery: 80.0}}
	e := &entry{account: "late", discoveryID: discoveryID("cloud2mqtt", "late", d.ID),
		topic: br.topics.Device("late", "front_door"), device: d}
	e.keys, e.device.Fields = br.keyCache.keys(&d)
	for _, v := range []struct {
		name   string
		encode func() []byte
	}{
		{"full keys", func() []byte {
			root := br.discoveryPayload(e)
			var long []map[string]any
			for _, a := range root["availability"].([]map[string]any) {
				long = append(long, map[string]any{"topic": a["t"], "value_template": a["val_tpl"]})
			}
			root["availability"] = long
			p, _ := json.Marshal(root)
			return p
		}},
		{"abbreviated", func() []byte {
			msgs, _ := br.discoveryMessages(e)
			for _, p := range msgs {
				return p
			}
			return nil
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = len(v.encode())
			}
			b.ReportMetric(float64(n), "bytes/device")
		})
	}
}
