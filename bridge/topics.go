package bridge

import (
	"strconv"
	"strings"
)

// Slug turns a cloud name into a topic level: lower case letters, digits and
// single underscores. It returns "" for a name with none of those.
func Slug(name string) string {
	return strings.Trim(collapse(strings.ToLower(name), slugByte), "_")
}

func slugByte(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func discoveryIDByte(c byte) bool { return slugByte(c) || 'A' <= c && c <= 'Z' || c == '_' || c == '-' }

// collapse replaces every run of bytes that keep refuses with one '_'. A
// character beyond ASCII is a run of such bytes. A string kept whole is
// returned as it is, without a copy: names are mostly slugs already, and
// 10,000 devices are named at every start.
func collapse(s string, keep func(byte) bool) string {
	i := 0
	for i < len(s) && keep(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		if keep(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteByte('_')
		for i < len(s) && !keep(s[i]) {
			i++
		}
	}
	return b.String()
}

// uniqueSlug returns the slug of name, or of fallback when name has none,
// suffixed with _2, _3, … until taken reports it free.
func uniqueSlug(name, fallback string, taken func(string) bool) string {
	base := Slug(name)
	if base == "" {
		base = Slug(fallback)
	}
	if base == "" {
		base = "device"
	}
	if !taken(base) {
		return base
	}
	for i := 2; ; i++ {
		s := base + "_" + strconv.Itoa(i)
		if !taken(s) {
			return s
		}
	}
}

// discoveryID makes an identifier that Home Assistant accepts in discovery
// topics and unique ids: [a-zA-Z0-9_-] only.
func discoveryID(parts ...string) string {
	return collapse(strings.Join(parts, "_"), discoveryIDByte)
}

// Topics names every MQTT topic of one bridge instance.
type Topics struct {
	Base            string // e.g. "cloud2mqtt"
	DiscoveryPrefix string // e.g. "homeassistant"
}

// BridgeState is the retained online/offline topic (and the last will).
func (t Topics) BridgeState() string { return t.Base + "/bridge/state" }

// BridgeInfo is the retained description of the bridge and its accounts.
func (t Topics) BridgeInfo() string { return t.Base + "/bridge/info" }

// BridgeDevices is the retained list of every device.
func (t Topics) BridgeDevices() string { return t.Base + "/bridge/devices" }

// BridgeEvent carries device and account events and command rejections.
func (t Topics) BridgeEvent() string { return t.Base + "/bridge/event" }

// BridgeRequest is the topic filter for bridge API requests.
func (t Topics) BridgeRequest() string { return t.Base + "/bridge/request/#" }

// BridgeResponse is the topic a response to the request action goes to.
func (t Topics) BridgeResponse(action string) string {
	return t.Base + "/bridge/response/" + action
}

// Device is the retained state topic of a device.
func (t Topics) Device(account, slug string) string { return t.Base + "/" + account + "/" + slug }

// HAStatus is the topic Home Assistant announces itself on.
func (t Topics) HAStatus() string { return t.DiscoveryPrefix + "/status" }

// DeviceDiscovery is the device-based discovery config topic for id.
func (t Topics) DeviceDiscovery(id string) string {
	return t.DiscoveryPrefix + "/device/" + id + "/config"
}

// commandTopic is a parsed <base>/<account>/<device>/(set|get)[/<field>].
type commandTopic struct {
	account, slug, verb, field string
}

// parseCommandTopic splits a command topic; ok is false for other topics.
func (t Topics) parseCommandTopic(topic string) (commandTopic, bool) {
	rest, found := strings.CutPrefix(topic, t.Base+"/")
	if !found {
		return commandTopic{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || len(parts) > 4 || parts[0] == "bridge" {
		return commandTopic{}, false
	}
	c := commandTopic{account: parts[0], slug: parts[1], verb: parts[2]}
	if c.verb != "set" && c.verb != "get" {
		return commandTopic{}, false
	}
	if len(parts) == 4 {
		if c.verb != "set" || parts[3] == "" {
			return commandTopic{}, false
		}
		c.field = parts[3]
	}
	return c, true
}
