package bridge

import (
	"reflect"
	"testing"
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
				"availability": []map[string]any{{"topic": "cloud2mqtt/bridge/state"}, {"topic": prefix + "/availability"}}},
			map[string]any{"state_topic": "~", "json_attributes_topic": prefix + "_x/attr", "~": prefix,
				"availability": []map[string]any{{"topic": "cloud2mqtt/bridge/state"}, {"topic": "~/availability"}}}},
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
			if shared != nil && shared[1]["topic"] != prefix+"/availability" {
				t.Errorf("the shared availability list was changed: %v", shared)
			}
		})
	}
}

func TestCompactConfigLeavesOutDefaultsOnly(t *testing.T) {
	got := compactConfig(map[string]any{"p": "lock", "payload_lock": "LOCK", "payload_unlock": "open sesame",
		"state_locked": "LOCKED", "value_template": "{{ value_json.state }}"}, "lock", "")
	want := map[string]any{"p": "lock", "pl_unlk": "open sesame", "val_tpl": "{{ value_json.state }}"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
