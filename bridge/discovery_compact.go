package bridge

import (
	"maps"
	"strings"
)

// The bridge builds its discovery payloads with Home Assistant's full keys
// and shortens them here, just before they are sent, in the ways Home
// Assistant's MQTT integration expands again (abbreviations.py for the
// tables, discovery.py for where they and the "~" topic base apply):
//
//   - keys are abbreviated where Home Assistant has an abbreviation: at the
//     root of a payload, in each entry of its availability list and in each
//     component of a device-based config (dev and o, with tables of their
//     own, are built abbreviated);
//   - a single-component config, or a component of a device-based config,
//     gets the device's topic as "~" and its topics under it as "~/…" when
//     that makes it shorter. Home Assistant replaces "~" in the values of
//     keys ending in "topic" and in availability topics of the object that
//     holds the "~". The root of a device-based config takes no "~": the
//     device schema allows no such key there and Home Assistant would drop
//     the whole config, so its shared state topic and availability stay
//     whole;
//   - keys whose value is the default of Home Assistant's platform schema
//     are left out.

// haAbbreviations maps the full keys the bridge sends to Home Assistant's
// abbreviations of them (ABBREVIATIONS in abbreviations.py; min_k and
// max_k came with min_kelvin and max_kelvin in 2025.1). Keys without an
// abbreviation there are sent in full: via_device, qos, schema,
// brightness, precision, temp_step, fan_modes, event_types, the
// current_humidity_* and direction_* keys.
var haAbbreviations = map[string]string{
	"availability":                    "avty",
	"availability_mode":               "avty_mode",
	"topic":                           "t",
	"value_template":                  "val_tpl",
	"state_topic":                     "stat_t",
	"command_topic":                   "cmd_t",
	"unique_id":                       "uniq_id",
	"device_class":                    "dev_cla",
	"unit_of_measurement":             "unit_of_meas",
	"state_class":                     "stat_cla",
	"entity_category":                 "ent_cat",
	"options":                         "ops",
	"payload_on":                      "pl_on",
	"payload_off":                     "pl_off",
	"state_on":                        "stat_on",
	"state_off":                       "stat_off",
	"state_value_template":            "stat_val_tpl",
	"brightness_scale":                "bri_scl",
	"supported_color_modes":           "sup_clrm",
	"min_kelvin":                      "min_k",
	"max_kelvin":                      "max_k",
	"payload_lock":                    "pl_lock",
	"payload_unlock":                  "pl_unlk",
	"state_locked":                    "stat_locked",
	"state_unlocked":                  "stat_unlocked",
	"percentage_state_topic":          "pct_stat_t",
	"percentage_value_template":       "pct_val_tpl",
	"percentage_command_topic":        "pct_cmd_t",
	"preset_modes":                    "pr_modes",
	"preset_mode_state_topic":         "pr_mode_stat_t",
	"preset_mode_value_template":      "pr_mode_val_tpl",
	"preset_mode_command_topic":       "pr_mode_cmd_t",
	"state_open":                      "stat_open",
	"state_closed":                    "stat_clsd",
	"payload_open":                    "pl_open",
	"payload_close":                   "pl_cls",
	"payload_stop":                    "pl_stop",
	"position_topic":                  "pos_t",
	"position_template":               "pos_tpl",
	"set_position_topic":              "set_pos_t",
	"temperature_unit":                "temp_unit",
	"mode_state_topic":                "mode_stat_t",
	"mode_state_template":             "mode_stat_tpl",
	"mode_command_topic":              "mode_cmd_t",
	"temperature_state_topic":         "temp_stat_t",
	"temperature_state_template":      "temp_stat_tpl",
	"temperature_command_topic":       "temp_cmd_t",
	"temperature_low_state_topic":     "temp_lo_stat_t",
	"temperature_low_state_template":  "temp_lo_stat_tpl",
	"temperature_low_command_topic":   "temp_lo_cmd_t",
	"temperature_high_state_topic":    "temp_hi_stat_t",
	"temperature_high_state_template": "temp_hi_stat_tpl",
	"temperature_high_command_topic":  "temp_hi_cmd_t",
	"current_temperature_topic":       "curr_temp_t",
	"current_temperature_template":    "curr_temp_tpl",
	"fan_mode_state_topic":            "fan_mode_stat_t",
	"fan_mode_state_template":         "fan_mode_stat_tpl",
	"fan_mode_command_topic":          "fan_mode_cmd_t",
	"power_command_topic":             "pow_cmd_t",
	"code_arm_required":               "cod_arm_req",
	"code_disarm_required":            "cod_dis_req",
	"supported_features":              "sup_feat",
	"payload_arm_away":                "pl_arm_away",
	"payload_arm_home":                "pl_arm_home",
	"payload_disarm":                  "pl_disarm",
	"payload_start":                   "pl_strt",
	"payload_pause":                   "pl_paus",
	"payload_return_to_base":          "pl_ret",
	"payload_clean_spot":              "pl_cln_sp",
	"payload_press":                   "pl_prs",
}

// haDefaults are, by platform, values that Home Assistant's platform
// schemas give a key the payload leaves out; the bridge leaves such keys
// out. (For switch, siren and fan, state_on and state_off default to the
// payloads, which the bridge's states match.)
var haDefaults = map[string]map[string]any{
	"switch": {"payload_on": "ON", "payload_off": "OFF"},
	"siren":  {"payload_on": "ON", "payload_off": "OFF"},
	"fan":    {"payload_on": "ON", "payload_off": "OFF"},
	"lock": {"payload_lock": "LOCK", "payload_unlock": "UNLOCK",
		"state_locked": "LOCKED", "state_unlocked": "UNLOCKED"},
	"cover": {"payload_open": "OPEN", "payload_close": "CLOSE",
		"state_open": "open", "state_closed": "closed"},
	"light": {"brightness_scale": 255},
}

// compactDevice shortens a device-based config: its root and availability
// keys, and each component (without the defaults of its platform, with
// qos, which Home Assistant before 2026.5 does not take from the root of
// a device-based config, and with prefix as "~" where that is shorter).
func compactDevice(root map[string]any, prefix string) map[string]any {
	out := make(map[string]any, len(root))
	for k, v := range root {
		switch k {
		case "cmps", "qos":
		case "availability":
			out[abbreviation(k)] = compactAvailability(v)
		default:
			out[abbreviation(k)] = v
		}
	}
	cmps, _ := root["cmps"].(map[string]component)
	short := make(map[string]map[string]any, len(cmps))
	for key, c := range cmps {
		cfg := make(map[string]any, len(c)+1)
		for k, v := range c {
			cfg[k] = v
		}
		if q, ok := root["qos"]; ok {
			cfg["qos"] = q
		}
		platform, _ := c["p"].(string)
		short[key] = compactConfig(cfg, platform, prefix)
	}
	out["cmps"] = short
	return out
}

// compactConfig shortens one config with full keys, of the given
// platform: a single-component config or a component of a device-based
// config.
func compactConfig(cfg map[string]any, platform, prefix string) map[string]any {
	defaults := haDefaults[platform]
	c := make(map[string]any, len(cfg)+1)
	for k, v := range cfg {
		if d, ok := defaults[k]; ok && d == v {
			continue
		}
		c[k] = v
	}
	useTopicBase(c, prefix)
	out := make(map[string]any, len(c))
	for k, v := range c {
		if k == "availability" {
			v = compactAvailability(v)
		}
		out[abbreviation(k)] = v
	}
	return out
}

func abbreviation(key string) string {
	if a, ok := haAbbreviations[key]; ok {
		return a
	}
	return key
}

// compactAvailability abbreviates the keys of an availability list.
func compactAvailability(v any) any {
	list, ok := v.([]map[string]any)
	if !ok {
		return v
	}
	out := make([]map[string]any, len(list))
	for i, a := range list {
		s := make(map[string]any, len(a))
		for k, x := range a {
			s[abbreviation(k)] = x
		}
		out[i] = s
	}
	return out
}

// useTopicBase writes the topics of cfg (full keys) that are prefix or
// start with prefix + "/" as "~…", and sets "~" to prefix, when that makes
// the payload shorter. The topics are the values of keys ending in "topic"
// and the topics of the availability list, the ones Home Assistant expands.
// It leaves cfg alone when a topic already starts or ends with "~", which
// Home Assistant would take for the base.
func useTopicBase(cfg map[string]any, prefix string) {
	if prefix == "" {
		return
	}
	type ref struct {
		m   map[string]any
		key string
	}
	var topics, uses []ref
	for k, v := range cfg {
		if strings.HasSuffix(k, "topic") {
			topics = append(topics, ref{cfg, k})
		}
		if k == "availability" {
			// A copy: the list is shared with the other configs of the device.
			list, ok := v.([]map[string]any)
			if !ok {
				continue
			}
			own := make([]map[string]any, len(list))
			for i, a := range list {
				own[i] = maps.Clone(a)
				topics = append(topics, ref{own[i], "topic"})
			}
			cfg[k] = own
		}
	}
	for _, r := range topics {
		s, _ := r.m[r.key].(string)
		if strings.HasPrefix(s, topicBase) || strings.HasSuffix(s, topicBase) {
			return
		}
		if s == prefix || strings.HasPrefix(s, prefix+"/") {
			uses = append(uses, r)
		}
	}
	// Each use saves len(prefix)-1 bytes; "~":"<prefix>", costs len(prefix)+7.
	if len(uses)*(len(prefix)-1) <= len(prefix)+7 {
		return
	}
	for _, r := range uses {
		r.m[r.key] = topicBase + strings.TrimPrefix(r.m[r.key].(string), prefix)
	}
	cfg[topicBase] = prefix
}
