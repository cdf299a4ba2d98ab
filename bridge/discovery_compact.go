package bridge

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonenc"
)

// The bridge builds its discovery payloads with Home Assistant's full keys
// and shortens them here, just before they are sent, in the ways Home
// Assistant's MQTT integration expands again (abbreviations.py for the
// tables, discovery.py for where they and the "~" topic base apply):
//
//   - keys are abbreviated where Home Assistant has an abbreviation: at the
//     root of a payload and in each component of a device-based config
//     (availability entries, dev and o, with tables of their own, are built
//     abbreviated);
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

// encodeDevice is the JSON of a device-based config built with full keys:
// its keys abbreviated, and each component without the defaults of its
// platform, with qos (which Home Assistant before 2026.5 does not take
// from the root of a device-based config) and with prefix as "~" where
// that is shorter. It changes root, which discoveryPayload built for this
// call: the topics of its components, and its "cmps", which becomes a
// withQoS. It appends to dst.
func encodeDevice(dst []byte, root map[string]any, prefix string) []byte {
	cmps, _ := root["cmps"].(map[string]component)
	for _, c := range cmps {
		useTopicBase(c, prefix)
	}
	if q, ok := root["qos"]; ok {
		root["cmps"] = withQoS{cmps, q}
	}
	return appendObject(dst, root, true, "", "qos")
}

// withQoS are the components of a device-based config, each encoded with
// the config's qos: written as a member of each rather than set in each
// map, which would grow a component of eight keys into a larger map.
type withQoS struct {
	cmps map[string]component
	qos  any
}

// encoded is what encode appends to an empty buffer, in a slice of its
// exact length: payloads are encoded in a reused buffer and copied out, so
// that what a start leaves for the collector is each payload's bytes only,
// not the room a buffer grew to.
func (b *Bridge) encoded(encode func(dst []byte) []byte) []byte {
	buf, _ := b.scratch.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	out := encode((*buf)[:0])
	payload := slices.Clone(out)
	if cap(out) <= maxScratch {
		*buf = out
		b.scratch.Put(buf)
	}
	return payload
}

// maxScratch is the largest buffer encoded keeps for the next payload.
const maxScratch = 64 << 10

// encodeConfig is the JSON of one single-component config built with full
// keys, of the given platform: its keys abbreviated, without the defaults of
// its platform and with prefix as "~" where that is shorter. It may change
// cfg; an availability list it holds (with abbreviated entries, t and
// val_tpl) may be shared: useTopicBase replaces it rather than change it.
// It appends to dst.
func encodeConfig(dst []byte, cfg map[string]any, platform, prefix string) []byte {
	useTopicBase(cfg, prefix)
	return appendObject(dst, cfg, true, platform, "")
}

// The encoder below writes what encoding/json writes for the same values
// with the keys abbreviated (keys sorted, HTML characters escaped), without
// first building maps with the abbreviated keys: a payload is built, sent
// once per device and dropped, and copying its maps cost more than the
// encoding.

type jsonMember struct {
	key string
	val any
}

// appendObject appends m as a JSON object, with abbreviated keys when
// abbreviate (m is a config or a component), leaving out skip and the keys
// whose value is a default of platform.
func appendObject(b []byte, m map[string]any, abbreviate bool, platform, skip string) []byte {
	return appendObjectWith(b, m, abbreviate, platform, skip, jsonMember{})
}

// appendObjectWith is appendObject with extra as one more member, unless
// its key is empty.
func appendObjectWith(b []byte, m map[string]any, abbreviate bool, platform, skip string, extra jsonMember) []byte {
	defaults := haDefaults[platform]
	var buf [32]jsonMember
	members := buf[:0]
	if extra.key != "" {
		members = append(members, extra)
	}
	for k, v := range m {
		if skip != "" && k == skip {
			continue
		}
		if d, ok := defaults[k]; ok && d == v {
			continue
		}
		if a, ok := haAbbreviations[k]; ok && abbreviate {
			k = a
		}
		members = append(members, jsonMember{k, v})
	}
	slices.SortFunc(members, func(x, y jsonMember) int { return strings.Compare(x.key, y.key) })
	b = append(b, '{')
	for i, mb := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, mb.key)
		b = append(b, ':')
		b = appendValue(b, mb.val)
	}
	return append(b, '}')
}

// appendValue appends v as JSON; components (component, and the
// map[string]component of a device-based config) with abbreviated keys,
// the latter each without the defaults of its platform.
func appendValue(b []byte, v any) []byte {
	if out, ok := jsonenc.AppendScalar(b, v); ok {
		return out
	}
	switch v := v.(type) {
	case []string:
		return appendArray(b, v, jsonenc.AppendString)
	case []any:
		return appendArray(b, v, appendValue)
	case []map[string]any:
		return appendArray(b, v, func(b []byte, m map[string]any) []byte { return appendObject(b, m, false, "", "") })
	case map[string]any:
		return appendObject(b, v, false, "", "")
	case component:
		return appendObject(b, v, true, "", "")
	case map[string]component:
		return appendComponents(b, v, jsonMember{})
	case withQoS:
		return appendComponents(b, v.cmps, jsonMember{"qos", v.qos})
	}
	out, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...) // not a JSON value (NaN, ±Inf): Home Assistant takes null as unset
	}
	return append(b, out...)
}

// appendComponents appends the components of a device-based config, keys
// sorted, each with abbreviated keys, without the defaults of its platform
// and with extra (see appendObjectWith).
func appendComponents(b []byte, cmps map[string]component, extra jsonMember) []byte {
	return jsonenc.AppendObject(b, cmps, func(b []byte, c component) []byte {
		platform, _ := c["p"].(string)
		return appendObjectWith(b, c, true, platform, "", extra)
	})
}

// appendArray appends v as a JSON array, each element by appendElem.
func appendArray[T any](b []byte, v []T, appendElem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendElem(b, x)
	}
	return append(b, ']')
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
	var topicsBuf, usesBuf [16]ref
	topics, uses := topicsBuf[:0], usesBuf[:0]
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
				topics = append(topics, ref{own[i], "t"})
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
