package bridge

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// OutputMode says how device state is published.
type OutputMode string

// Output modes, as in zigbee2mqtt.
const (
	OutputJSON             OutputMode = "json"               // one JSON object on <device>
	OutputAttribute        OutputMode = "attribute"          // each key on <device>/<key>
	OutputAttributeAndJSON OutputMode = "attribute_and_json" // both
)

// AvailabilityMode says where a device's availability is published.
type AvailabilityMode string

// Availability modes.
const (
	// AvailabilityState puts it in the device's JSON state, as
	// "availability": "online" or "offline"; Home Assistant reads it there.
	AvailabilityState AvailabilityMode = "state"
	// AvailabilityTopic also publishes it on <device>/availability as
	// {"state":"online"}, and marks every device offline there on shutdown,
	// for flows that read that topic (a message more per device).
	AvailabilityTopic AvailabilityMode = "topic"
)

// Keys the bridge writes into a device's JSON state itself: its
// availability, and a light's Home Assistant colour mode.
const (
	availabilityKey = "availability"
	colorModeKey    = "color_mode"
)

// DiscoveryMode says how Home Assistant discovery is published.
type DiscoveryMode string

// Discovery modes.
const (
	DiscoveryDevice    DiscoveryMode = "device"    // <prefix>/device/<id>/config (Home Assistant 2024.11 and later)
	DiscoveryComponent DiscoveryMode = "component" // <prefix>/<platform>/<id>/<key>/config, for older versions
	DiscoveryOff       DiscoveryMode = "off"       // no discovery
)

// DeviceOptions are per-device settings.
type DeviceOptions struct {
	Exclude    bool   // not published at all
	Topic      string // topic level of one's own instead of the name's slug
	Optimistic bool   // publish the commanded state as soon as the cloud accepted it
}

// Options configures a Bridge.
type Options struct {
	Topics         Topics
	Version        string         // reported in bridge/info and discovery origin
	Logger         *slog.Logger   // nil: discard
	LogLevel       *slog.LevelVar // changed by bridge/request/options; nil: not changeable
	CommandTimeout time.Duration  // bound on one cloud call; default 30s
	// CommandLifetime is how long an accepted command is retried before it
	// is reported failed; default 30s.
	CommandLifetime time.Duration
	// MaxRate is how many cloud calls a second one device gets at most
	// (queued commands merge meanwhile, the latest value winning);
	// default 5, negative for no limit.
	MaxRate float64
	// ConfirmAfter is how long after a command the device is re-read when
	// no push has shown its value; default 3s, negative never.
	ConfirmAfter time.Duration
	HABirthDelay time.Duration // wait after Home Assistant comes online before re-publishing; default 0
	// CleanupDelay bounds the wait for the broker's retained discovery
	// configs at start (those matching no device are cleared once every
	// account has listed); default 5s.
	CleanupDelay time.Duration
	// ListDelay is how long bridge/info and bridge/devices wait for more
	// changes before they are re-published; default 100ms.
	ListDelay time.Duration
	// StaleStart: when the broker connection (or the retained discovery
	// scan) held the start up longer than this, the listings the accounts
	// made meanwhile are read again once the bridge runs; default 30s.
	StaleStart time.Duration
	Output     OutputMode // default OutputJSON
	// Availability is where device availability is published; default
	// AvailabilityState. Without JSON state (OutputAttribute) the topic is
	// published either way.
	Availability AvailabilityMode
	Discovery    DiscoveryMode // default DiscoveryDevice
	// Devices holds per-device options keyed by "<account>/<cloud id>".
	Devices map[string]DeviceOptions
	// Config is the configuration without secrets, shown in bridge/info.
	Config any
	// TokenExpiry, when set, tells when an account's token or session
	// ends (zero when unknown), for bridge/info.
	TokenExpiry func(account string) time.Time
	// OnCommand, when set, is told how every command ended (metrics
	// count with it). It must be quick and safe for concurrent use.
	OnCommand func(account string, result CommandResult)
	// Started, when set, is called once, when the start is published:
	// every account has listed its devices (or failed) and bridge/devices
	// is out. The program settles its memory then (the start's garbage is
	// every account's listing and every payload published).
	Started func()
}

func (o *Options) defaults() error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 30 * time.Second
	}
	if o.CommandLifetime <= 0 {
		o.CommandLifetime = 30 * time.Second
	}
	if o.MaxRate == 0 {
		o.MaxRate = 5
	}
	if o.ConfirmAfter == 0 {
		o.ConfirmAfter = 3 * time.Second
	}
	if o.CleanupDelay <= 0 {
		o.CleanupDelay = 5 * time.Second
	}
	if o.ListDelay <= 0 {
		o.ListDelay = 100 * time.Millisecond
	}
	if o.StaleStart <= 0 {
		o.StaleStart = 30 * time.Second
	}
	if o.Topics.Base == "" {
		o.Topics.Base = "cloud2mqtt"
	}
	if o.Topics.DiscoveryPrefix == "" {
		o.Topics.DiscoveryPrefix = "homeassistant"
	}
	switch o.Output {
	case "":
		o.Output = OutputJSON
	case OutputJSON, OutputAttribute, OutputAttributeAndJSON:
	default:
		return fmt.Errorf("bridge: output %q: use json, attribute or attribute_and_json", o.Output)
	}
	switch o.Availability {
	case "":
		o.Availability = AvailabilityState
	case AvailabilityState, AvailabilityTopic:
	default:
		return fmt.Errorf("bridge: availability %q: use state or topic", o.Availability)
	}
	switch o.Discovery {
	case "":
		o.Discovery = DiscoveryDevice
	case DiscoveryDevice, DiscoveryComponent, DiscoveryOff:
	default:
		return fmt.Errorf("bridge: discovery %q: use device, component or off", o.Discovery)
	}
	for key, d := range o.Devices {
		if d.Topic != "" && (strings.ContainsAny(d.Topic, "/#+") || Slug(d.Topic) == "") {
			return fmt.Errorf("bridge: device %s: topic %q must be one topic level without / # or +", key, d.Topic)
		}
	}
	return nil
}

func (o *Options) device(account, id string) DeviceOptions {
	return o.Devices[account+"/"+id]
}

func (o *Options) jsonOutput() bool { return o.Output != OutputAttribute }

func (o *Options) attributeOutput() bool { return o.Output != OutputJSON }

// availabilityTopic tells whether <device>/availability is published:
// when asked for, or when there is no JSON state to carry it.
func (o *Options) availabilityTopic() bool {
	return o.Availability == AvailabilityTopic || !o.jsonOutput()
}
