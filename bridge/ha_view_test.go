package bridge_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// This file reads discovery payloads the way Home Assistant's MQTT
// integration does (homeassistant/components/mqtt/discovery.py,
// abbreviations.py, schemas.py), so that tests check what Home Assistant
// makes of a payload, not how it is spelled.

// haAbbreviations is the part of Home Assistant's ABBREVIATIONS table
// (abbreviation → key) that concerns the keys of this bridge's payloads,
// and their neighbours. It is written from Home Assistant's table, apart
// from the bridge's own, so that a wrong abbreviation stays unexpanded and
// fails the tests.
var haAbbreviations = map[string]string{
	"avty": "availability", "avty_mode": "availability_mode", "avty_t": "availability_topic",
	"avty_tpl": "availability_template", "pl_avail": "payload_available", "pl_not_avail": "payload_not_available",
	"t": "topic", "val_tpl": "value_template", "stat_t": "state_topic", "stat_tpl": "state_template",
	"stat_val_tpl": "state_value_template", "cmd_t": "command_topic", "cmd_tpl": "command_template",
	"uniq_id": "unique_id", "obj_id": "object_id", "dev": "device", "o": "origin", "cmps": "components", "p": "platform",
	"dev_cla": "device_class", "unit_of_meas": "unit_of_measurement", "stat_cla": "state_class",
	"ent_cat": "entity_category", "en": "enabled_by_default", "ic": "icon", "e": "encoding", "ret": "retain",
	"opt": "optimistic", "exp_aft": "expire_after", "frc_upd": "force_update", "json_attr_t": "json_attributes_topic",
	"json_attr_tpl": "json_attributes_template", "ops": "options", "name": "name",
	"max": "max", "min": "min", "step": "step", "mode": "mode", "modes": "modes", "max_temp": "max_temp", "min_temp": "min_temp",
	"pl_on": "payload_on", "pl_off": "payload_off", "stat_on": "state_on", "stat_off": "state_off",
	"bri_scl": "brightness_scale", "sup_clrm": "supported_color_modes", "min_k": "min_kelvin", "max_k": "max_kelvin",
	"min_mirs": "min_mireds", "max_mirs": "max_mireds",
	"pl_lock": "payload_lock", "pl_unlk": "payload_unlock", "pl_open": "payload_open", "pl_cls": "payload_close",
	"pl_stop": "payload_stop", "stat_locked": "state_locked", "stat_unlocked": "state_unlocked",
	"stat_open": "state_open", "stat_opening": "state_opening", "stat_clsd": "state_closed", "stat_closing": "state_closing",
	"stat_stopped": "state_stopped", "pos_t": "position_topic", "pos_tpl": "position_template",
	"set_pos_t": "set_position_topic", "set_pos_tpl": "set_position_template",
	"pos_open": "position_open", "pos_clsd": "position_closed",
	"pct_stat_t": "percentage_state_topic", "pct_val_tpl": "percentage_value_template",
	"pct_cmd_t": "percentage_command_topic", "pct_cmd_tpl": "percentage_command_template",
	"pr_modes": "preset_modes", "pr_mode_stat_t": "preset_mode_state_topic", "pr_mode_val_tpl": "preset_mode_value_template",
	"pr_mode_cmd_t": "preset_mode_command_topic", "pr_mode_cmd_tpl": "preset_mode_command_template",
	"osc_stat_t": "oscillation_state_topic", "osc_cmd_t": "oscillation_command_topic",
	"temp_unit": "temperature_unit", "mode_stat_t": "mode_state_topic", "mode_stat_tpl": "mode_state_template",
	"mode_cmd_t": "mode_command_topic", "mode_cmd_tpl": "mode_command_template",
	"temp_stat_t": "temperature_state_topic", "temp_stat_tpl": "temperature_state_template",
	"temp_cmd_t": "temperature_command_topic", "temp_cmd_tpl": "temperature_command_template",
	"temp_lo_stat_t": "temperature_low_state_topic", "temp_lo_stat_tpl": "temperature_low_state_template",
	"temp_lo_cmd_t": "temperature_low_command_topic", "temp_hi_stat_t": "temperature_high_state_topic",
	"temp_hi_stat_tpl": "temperature_high_state_template", "temp_hi_cmd_t": "temperature_high_command_topic",
	"curr_temp_t": "current_temperature_topic", "curr_temp_tpl": "current_temperature_template",
	"fan_mode_stat_t": "fan_mode_state_topic", "fan_mode_stat_tpl": "fan_mode_state_template",
	"fan_mode_cmd_t": "fan_mode_command_topic", "swing_mode_stat_t": "swing_mode_state_topic",
	"swing_mode_cmd_t": "swing_mode_command_topic", "pow_cmd_t": "power_command_topic", "pow_stat_t": "power_state_topic",
	"hum_stat_t": "target_humidity_state_topic", "hum_cmd_t": "target_humidity_command_topic",
	"cod_arm_req": "code_arm_required", "cod_dis_req": "code_disarm_required", "cod_trig_req": "code_trigger_required",
	"sup_feat": "supported_features", "pl_arm_away": "payload_arm_away", "pl_arm_home": "payload_arm_home",
	"pl_arm_nite": "payload_arm_night", "pl_disarm": "payload_disarm", "pl_trig": "payload_trigger",
	"pl_strt": "payload_start", "pl_paus": "payload_pause", "pl_ret": "payload_return_to_base",
	"pl_cln_sp": "payload_clean_spot", "pl_loc": "payload_locate", "fanspd_lst": "fan_speed_list",
	"pl_prs": "payload_press", "pl": "payload", "fx_list": "effect_list", "fx_cmd_t": "effect_command_topic",
	"bri_cmd_t": "brightness_command_topic", "bri_stat_t": "brightness_state_topic",
	"clr_temp_cmd_t": "color_temp_command_topic", "clr_temp_stat_t": "color_temp_state_topic",
}

// haDeviceAbbreviations and haOriginAbbreviations are Home Assistant's
// DEVICE_ABBREVIATIONS and ORIGIN_ABBREVIATIONS.
var (
	haDeviceAbbreviations = map[string]string{"cns": "connections", "cu": "configuration_url", "ids": "identifiers",
		"name": "name", "mf": "manufacturer", "mdl": "model", "mdl_id": "model_id", "hw": "hw_version",
		"sw": "sw_version", "sa": "suggested_area", "sn": "serial_number"}
	haOriginAbbreviations = map[string]string{"name": "name", "sw": "sw_version", "url": "support_url"}
)

// haUnabbreviated are keys of this bridge's payloads that Home Assistant
// knows and has no abbreviation for.
var haUnabbreviated = []string{"qos", "schema", "brightness", "precision", "temp_step", "fan_modes", "event_types",
	"current_humidity_topic", "current_humidity_template", "direction_state_topic", "direction_command_topic",
	"direction_value_template", "device", "origin", "platform"}

// haSharedOptions are the options of a device-based config's root that
// Home Assistant copies into components that lack them (SHARED_OPTIONS).
// qos and encoding joined them in 2026.5; before, a component without its
// own qos had qos 0, so the view leaves them out.
var haSharedOptions = []string{"availability", "availability_mode", "availability_template", "availability_topic",
	"command_topic", "payload_available", "payload_not_available", "state_topic"}

// haDeviceRootKeys are the keys DEVICE_DISCOVERY_SCHEMA allows at the root
// of a device-based config; any other key makes Home Assistant reject it.
var haDeviceRootKeys = []string{"availability", "availability_mode", "availability_template", "availability_topic",
	"payload_available", "payload_not_available", "device", "components", "origin", "state_topic",
	"command_topic", "message_expiry_interval", "qos", "encoding"}

// haPlatformDefaults are defaults of Home Assistant's platform schemas for
// keys this bridge leaves out when it would send the default.
var haPlatformDefaults = map[string]map[string]any{
	"switch": {"payload_on": "ON", "payload_off": "OFF"},
	"siren":  {"payload_on": "ON", "payload_off": "OFF"},
	"fan":    {"payload_on": "ON", "payload_off": "OFF"},
	"lock": {"payload_lock": "LOCK", "payload_unlock": "UNLOCK", "state_locked": "LOCKED",
		"state_unlocked": "UNLOCKED"},
	"cover": {"payload_open": "OPEN", "payload_close": "CLOSE", "payload_stop": "STOP",
		"state_open": "open", "state_closed": "closed"},
	"light": {"brightness_scale": float64(255)},
}

// haView decodes a discovery payload published on topic under the
// discovery prefix and returns it as Home Assistant reads it: keys
// expanded, with "~" replaced, and the defaults of the keys the bridge
// leaves out filled in. A device-based config keeps its root (device,
// origin, the shared options) and has under "components" each component
// as Home Assistant sets it up: with the root's shared options it lacks,
// device and origin, and its platform. A single-component config gets its
// platform from the topic. A payload Home Assistant would reject fails
// the test.
func haView(tb testing.TB, prefix, topic string, payload []byte) map[string]any {
	tb.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(payload, &cfg); err != nil {
		tb.Fatalf("%s: %v: %s", topic, err, payload)
	}
	parts := strings.Split(strings.TrimPrefix(topic, prefix+"/"), "/")
	if len(parts) < 3 || parts[len(parts)-1] != "config" {
		tb.Fatalf("%s is no discovery topic under %s", topic, prefix)
	}
	haExpand(cfg, true)
	if parts[0] != "device" {
		if cfg["~"] != nil {
			haReplaceTopicBase(cfg)
		}
		cfg["platform"] = parts[0]
		haFillDefaults(cfg)
		haKnownKeys(tb, topic, cfg)
		return cfg
	}
	for k := range cfg {
		if !slices.Contains(haDeviceRootKeys, k) {
			tb.Errorf("%s: Home Assistant rejects the device config: extra key %q at its root: %s", topic, k, payload)
		}
	}
	dev, _ := cfg["device"].(map[string]any)
	origin, _ := cfg["origin"].(map[string]any)
	cmps, _ := cfg["components"].(map[string]any)
	if dev == nil || (dev["identifiers"] == nil && dev["connections"] == nil) || origin == nil || origin["name"] == nil || cmps == nil {
		tb.Errorf("%s: Home Assistant rejects the device config: device with an identifier, origin with a name and components are required: %s", topic, payload)
	}
	for id, v := range cmps {
		c, _ := v.(map[string]any)
		if c == nil || c["platform"] == nil {
			tb.Errorf("%s: Home Assistant rejects the device config: component %s has no platform", topic, id)
			continue
		}
		if len(c) > 1 && c["unique_id"] == nil {
			tb.Errorf("%s: Home Assistant rejects the device config: component %s has no unique_id", topic, id)
		}
		if len(c) > 1 {
			c["device"], c["origin"] = dev, origin
			for _, k := range haSharedOptions {
				if _, ok := c[k]; !ok && cfg[k] != nil {
					c[k] = cfg[k]
				}
			}
		}
		if c["~"] != nil {
			haReplaceTopicBase(c)
		}
		haFillDefaults(c)
		haKnownKeys(tb, topic+" "+id, c)
	}
	haKnownKeys(tb, topic, cfg)
	return cfg
}

// haExpand expands the abbreviations of a payload's root, its availability
// entries, and, at the root of a config, origin, device and each component
// (whose device and origin are not expanded), as _replace_all_abbreviations.
func haExpand(cfg map[string]any, root bool) {
	expandKeys(cfg, haAbbreviations)
	if list, ok := cfg["availability"].([]any); ok {
		for _, a := range list {
			if m, ok := a.(map[string]any); ok {
				expandKeys(m, haAbbreviations)
			}
		}
	}
	if !root {
		return
	}
	if m, ok := cfg["origin"].(map[string]any); ok {
		expandKeys(m, haOriginAbbreviations)
	}
	if m, ok := cfg["device"].(map[string]any); ok {
		expandKeys(m, haDeviceAbbreviations)
	}
	if cmps, ok := cfg["components"].(map[string]any); ok {
		for _, c := range cmps {
			if m, ok := c.(map[string]any); ok {
				haExpand(m, false)
			}
		}
	}
}

// expandKeys renames abbreviated keys; the abbreviation wins over a full
// key also present, as in Home Assistant.
func expandKeys(m map[string]any, table map[string]string) {
	for _, k := range slices.Collect(maps.Keys(m)) {
		if full, ok := table[k]; ok && full != k {
			m[full] = m[k]
			delete(m, k)
		}
	}
}

// haReplaceTopicBase replaces "~" at the start or end of the values of
// keys ending in "topic" and of availability topics, as _replace_topic_base.
func haReplaceTopicBase(cfg map[string]any) {
	base, _ := cfg["~"].(string)
	delete(cfg, "~")
	replace := func(s string) string {
		out := s
		if strings.HasPrefix(s, "~") {
			out = base + s[1:]
		}
		if strings.HasSuffix(s, "~") {
			out = s[:len(s)-1] + base
		}
		return out
	}
	for k, v := range cfg {
		if s, ok := v.(string); ok && s != "" && strings.HasSuffix(k, "topic") {
			cfg[k] = replace(s)
		}
	}
	if list, ok := cfg["availability"].([]any); ok {
		own := make([]any, len(list))
		for i, a := range list {
			m, ok := a.(map[string]any)
			if !ok {
				own[i] = a
				continue
			}
			m = maps.Clone(m)
			if s, ok := m["topic"].(string); ok && s != "" {
				m["topic"] = replace(s)
			}
			own[i] = m
		}
		cfg["availability"] = own
	}
}

// haFillDefaults sets the platform defaults the bridge leaves out.
func haFillDefaults(c map[string]any) {
	p, _ := c["platform"].(string)
	for k, v := range haPlatformDefaults[p] {
		if _, ok := c[k]; !ok {
			c[k] = v
		}
	}
}

// haKnownKeys fails the test for keys of a config that Home Assistant does
// not know: an abbreviation it does not have stays unexpanded.
func haKnownKeys(tb testing.TB, where string, cfg map[string]any) {
	tb.Helper()
	for k := range cfg {
		if k == "components" || slices.Contains(haUnabbreviated, k) || slices.Contains(haDeviceRootKeys, k) {
			continue
		}
		known := false
		for _, full := range haAbbreviations {
			known = known || full == k
		}
		if !known {
			tb.Errorf("%s: key %q is not one Home Assistant knows (after expanding its abbreviations)", where, k)
		}
	}
}

// TestHAViewReadsHomeAssistantsExamples checks the view against what Home
// Assistant's own tests expect of abbreviated payloads with a topic base.
func TestHAViewReadsHomeAssistantsExamples(t *testing.T) {
	single := `{"~":"some/base/topic","name":"DiscoveryExpansionTest1","stat_t":"test_topic/~","cmd_t":"~/test_topic",
		"availability":[{"topic":"~/avail_item1","payload_available":"available","payload_not_available":"not_available"},
		{"t":"avail_item2/~","pl_avail":"available","pl_not_avail":"not_available"}],
		"dev":{"ids":["5706DF"],"name":"DiscoveryExpansionTest1 Device","mdl":"Generic","hw":"rev1","sw":"1.2.3.4","mf":"None","sa":"default_area"}}`
	got := haView(t, "homeassistant", "homeassistant/switch/bla/config", []byte(single))
	want := map[string]any{"name": "DiscoveryExpansionTest1", "state_topic": "test_topic/some/base/topic",
		"command_topic": "some/base/topic/test_topic", "platform": "switch", "payload_on": "ON", "payload_off": "OFF",
		"availability": []any{
			map[string]any{"topic": "some/base/topic/avail_item1", "payload_available": "available", "payload_not_available": "not_available"},
			map[string]any{"topic": "avail_item2/some/base/topic", "payload_available": "available", "payload_not_available": "not_available"}},
		"device": map[string]any{"identifiers": []any{"5706DF"}, "name": "DiscoveryExpansionTest1 Device", "model": "Generic",
			"hw_version": "rev1", "sw_version": "1.2.3.4", "manufacturer": "None", "suggested_area": "default_area"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("single-component view\n got %v\nwant %v", got, want)
	}

	device := `{"dev":{"ids":"0AFFD2","name":"test_device"},"o":{"name":"Foo2Mqtt","sw":"1.50.0","url":"https://www.foo2mqtt.io"},
		"stat_t":"foobar/sensors/state","avty":[{"t":"foobar/avail"}],"qos":1,
		"cmps":{"bla2":{"p":"sensor","uniq_id":"bla002","name":"mqtt_sensor","~":"foobar/sensors","json_attr_t":"~/attr"},
			"bla3":{"platform":"sensor","unique_id":"bla003","stat_t":"other"}}}`
	got = haView(t, "homeassistant", "homeassistant/device/0AFFD2/config", []byte(device))
	cmps := got["components"].(map[string]any)
	bla2, bla3 := cmps["bla2"].(map[string]any), cmps["bla3"].(map[string]any)
	if bla2["state_topic"] != "foobar/sensors/state" || bla2["json_attributes_topic"] != "foobar/sensors/attr" ||
		bla2["platform"] != "sensor" || bla2["unique_id"] != "bla002" || bla2["qos"] != nil ||
		bla2["origin"].(map[string]any)["support_url"] != "https://www.foo2mqtt.io" ||
		!reflect.DeepEqual(bla2["availability"], []any{map[string]any{"topic": "foobar/avail"}}) {
		t.Errorf("component with shared options and a topic base: %v", bla2)
	}
	if bla3["state_topic"] != "other" {
		t.Errorf("a component's own option gave way to the shared one: %v", bla3)
	}

	// "~" at the root of a device-based config: DEVICE_DISCOVERY_SCHEMA has
	// no such key, so Home Assistant drops the whole config.
	rec := &recordingTB{TB: t}
	haView(rec, "homeassistant", "homeassistant/device/x/config",
		[]byte(`{"~":"a/b","dev":{"ids":"x"},"o":{"name":"n"},"stat_t":"~","cmps":{"s":{"p":"sensor","uniq_id":"u"}}}`))
	if !rec.failed {
		t.Error("a device config with \"~\" at its root passed")
	}
	rec = &recordingTB{TB: t}
	haView(rec, "homeassistant", "homeassistant/sensor/x/config", []byte(`{"stat_t":"a","dev_class":"power"}`))
	if !rec.failed {
		t.Error("a key Home Assistant does not know passed")
	}
}

// recordingTB notes failures instead of reporting them.
type recordingTB struct {
	testing.TB
	failed bool
}

func (r *recordingTB) Errorf(string, ...any) { r.failed = true }
func (r *recordingTB) Helper()               {}
